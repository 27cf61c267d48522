"""What the three heads (LFI-CAM, ABN, baseline) share.

Every classifier of the package is a Functional model that takes RGB images
in 0..255 of a fixed size and returns a dict of named outputs, at least
`"logits"`. This base class gives them:

- `compile()` with working defaults: the paper's SGD (lr 0.1, momentum 0.9,
  weight decay 1e-4), a from-logits sparse cross-entropy on every output
  listed in `LOSS_OUTPUTS`, and accuracy on `"logits"`;
- integer labels for `fit` / `evaluate`: a plain label tensor is routed to
  every output that has a loss, so `model.fit(images, labels)` works;
- input checks with messages that say how to fix the images.
"""

import keras


class ImageClassifier(keras.Model):
    """Base class of the package's classifiers; see the module docstring."""

    #: The outputs trained with a cross-entropy against the labels.
    LOSS_OUTPUTS = ("logits",)

    def _init_functional(self, inputs, outputs, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # Inputs are checked in `call`, with messages that say what to do,
        # instead of Keras' generic shape-incompatibility error.
        self.input_spec = None

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configure training; every argument defaults to the paper's choice.

        Args:
            optimizer: `"auto"` for SGD with learning rate 0.1, momentum 0.9
                and weight decay 1e-4 (METHOD.md section 5), or any Keras
                optimizer.
            loss: `"auto"` for a from-logits sparse categorical cross-entropy
                on each of `LOSS_OUTPUTS` (for ABN, the sum of the perception
                and attention-branch losses), or a Keras loss structure.
            metrics: `"auto"` for accuracy on `"logits"`, or Keras metrics.
            **kwargs: passed to `keras.Model.compile`.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.SGD(
                learning_rate=0.1, momentum=0.9, weight_decay=1e-4
            )
        if loss == "auto":
            loss = {
                name: keras.losses.SparseCategoricalCrossentropy(from_logits=True)
                for name in self.LOSS_OUTPUTS
            }
        if metrics == "auto":
            metrics = {"logits": [keras.metrics.SparseCategoricalAccuracy("accuracy")]}
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        """Recompile a loaded model (Keras skips models whose compile is custom)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def _route_labels(self, y, y_pred):
        if y is None or isinstance(y, dict) or not isinstance(y_pred, dict):
            return y
        return {name: y for name in y_pred}

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        return super().compute_loss(
            x=x,
            y=self._route_labels(y, y_pred),
            y_pred=y_pred,
            sample_weight=sample_weight,
            training=training,
        )

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(
            x, self._route_labels(y, y_pred), y_pred, sample_weight=sample_weight
        )

    def __call__(self, images, *args, **kwargs):
        # Checked here rather than in `call`, so that the message is not
        # buried under Keras' dump of the call arguments.
        check_images(images, self.inputs[0].shape)
        return super().__call__(images, *args, **kwargs)


def check_images(images, expected_shape):
    """Raise a `ValueError` that says how to fix images of the wrong shape."""
    shape = tuple(images.shape)
    expected = tuple(expected_shape)
    if len(shape) != 4:
        fix = (
            " For a single image, add a batch axis: images[None]."
            if len(shape) == 3
            else ""
        )
        raise ValueError(
            "`images` must be a batch of RGB images of shape "
            f"(batch_size, {expected[1]}, {expected[2]}, 3). "
            f"Received: images.shape={shape}.{fix}"
        )
    if shape[-1] is not None and shape[-1] != 3:
        raise ValueError(
            "`images` must have 3 channels (RGB in 0..255). Received: "
            f"images.shape={shape}. Convert greyscale with "
            "np.repeat(images, 3, axis=-1); drop an alpha channel with "
            "images[..., :3]."
        )
    size = shape[1:3]
    if None not in size and None not in expected[1:3] and size != expected[1:3]:
        raise ValueError(
            f"`images` must be {expected[1]}x{expected[2]}, the size this model "
            f"was built for. Received: images.shape={shape}. Resize them with "
            f"keras.ops.image.resize(images, {expected[1:3]}), or build the "
            "model with `input_shape` equal to your images' shape."
        )
