"""What the three heads (LFI-CAM, ABN, baseline) share.

Every classifier of the package is a Functional model that takes RGB images
in 0..255 of a fixed size and returns a dict of named outputs, at least
`"logits"`. This base class gives them:

- `compile()` with working defaults: the paper's SGD (lr 0.1, momentum 0.9,
  weight decay 1e-4 added to the gradient as in the authors' PyTorch code,
  `lficam_tf.optimizers.SGD`), a from-logits sparse cross-entropy on every output
  listed in `LOSS_OUTPUTS`, and accuracy on `"logits"`;
- Keras' `compile` / `fit` / `evaluate` forms with plain Keras meaning (a
  loss or metric named for one output applies to that output only), and
  what a classifier's user expects on top: a plain label tensor goes to
  every output, so `model.fit(images, labels)` trains every output with a
  loss; labels and sample weights as dicts need to name only the outputs
  that use them; one loss (not a dict) applies to each of `LOSS_OUTPUTS`
  and a list of metrics to `"logits"`, as on a single-output model;
- input checks with messages that say how to fix the images.
"""

import keras

from lficam_tf.initializers import torch_linear_bias, torch_linear_kernel
from lficam_tf.models.outputs import LOGITS
from lficam_tf.optimizers import SGD


class ImageClassifier(keras.Model):
    """Base class of the package's classifiers; see the module docstring."""

    #: The outputs trained with a cross-entropy against the labels.
    LOSS_OUTPUTS = (LOGITS,)

    def _init_functional(self, inputs, outputs, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # Inputs are checked in `call`, with messages that say what to do,
        # instead of Keras' generic shape-incompatibility error.
        self.input_spec = None

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configure training; every argument defaults to the paper's choice.

        Args:
            optimizer: `"auto"` for SGD with learning rate 0.1, momentum 0.9
                and weight decay 1e-4 (METHOD.md section 5), the decay coupled
                (L2 added to the gradient before the momentum) as in the
                authors' PyTorch SGD: `lficam_tf.optimizers.SGD`. Or any
                Keras optimizer.
            loss: `"auto"` for a from-logits sparse categorical cross-entropy
                on each of `LOSS_OUTPUTS` (for ABN, the sum of the perception
                and attention-branch losses); one Keras loss, which applies to
                each of `LOSS_OUTPUTS` (a plain Keras model would apply it to
                every output, the maps included, and fail); a dict
                `{output name: loss}`, which trains the named outputs only; or
                a list with one loss (or None) per output, in the order of the
                sorted output names (Keras' rule).
            metrics: `"auto"` for accuracy on `"logits"`; a dict
                `{output name: metrics}`; a list with one entry per output
                (Keras' rule); any other list applies to `"logits"`, as on a
                single-output model. `weighted_metrics` follows the same rules.
            **kwargs: passed to `keras.Model.compile`. With one loss,
                `loss_weights` may be one float.
        """
        if optimizer == "auto":
            optimizer = SGD(
                learning_rate=0.1,
                momentum=0.9,
                weight_decay=1e-4,
                weight_decay_mode="coupled",
            )
        if loss == "auto":
            loss = {
                name: keras.losses.SparseCategoricalCrossentropy(from_logits=True)
                for name in self.LOSS_OUTPUTS
            }
        elif loss is not None and not keras.tree.is_nested(loss):
            loss = {name: loss for name in self.LOSS_OUTPUTS}
            weights = kwargs.get("loss_weights")
            if weights is not None and not keras.tree.is_nested(weights):
                kwargs["loss_weights"] = {name: weights for name in self.LOSS_OUTPUTS}
        if metrics == "auto":
            metrics = {LOGITS: [keras.metrics.SparseCategoricalAccuracy("accuracy")]}
        metrics = self._metrics_by_output(metrics)
        if "weighted_metrics" in kwargs:
            kwargs["weighted_metrics"] = self._metrics_by_output(
                kwargs["weighted_metrics"]
            )
        # The outputs whose loss needs a label (None: Keras decides).
        self._loss_outputs = self._outputs_with_loss(loss)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def _metrics_by_output(self, metrics):
        """A list that is not one entry per output is for `"logits"`."""
        if isinstance(metrics, (list, tuple)) and 0 < len(metrics) != len(self.outputs):
            return {LOGITS: list(metrics)}
        return metrics

    def _outputs_with_loss(self, loss):
        if (
            isinstance(loss, (list, tuple))
            and len(loss) == len(self.outputs)
            and not any(keras.tree.is_nested(entry) for entry in loss)
        ):
            # Keras' own rule for a list of losses on dict outputs.
            loss = keras.tree.pack_sequence_as(self.output, list(loss))
        if not isinstance(loss, dict):
            return None
        return tuple(sorted(name for name, value in loss.items() if value is not None))

    def compile_from_config(self, config):
        """Recompile a loaded model (Keras skips models whose compile is custom)."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def _by_output(self, y, y_pred, route_plain=True):
        """`y` as a dict over all of `y_pred`'s outputs, for Keras.

        A plain tensor goes to every output (`route_plain`; a plain sample
        weight stays as it is: Keras applies it to every output); a dict that
        names some outputs gets None for the others, which Keras' metrics
        need (they index every output). Anything else is left to Keras.
        """
        if y is None or not isinstance(y_pred, dict):
            return y
        if not keras.tree.is_nested(y):
            return {name: y for name in y_pred} if route_plain else y
        if isinstance(y, dict) and set(y) <= set(y_pred):
            return {name: y.get(name) for name in y_pred}
        return y

    def _check_labels(self, y):
        """A dict of labels must label every output with a loss."""
        needed = getattr(self, "_loss_outputs", None)
        if not isinstance(y, dict) or not needed:
            return
        missing = [name for name in needed if y.get(name) is None]
        if missing:
            example = ", ".join(f"{name!r}: labels" for name in needed)
            raise ValueError(
                "`y` must have labels for every output with a loss "
                f"({list(needed)}). Received: y with keys {sorted(y)}, "
                f"missing {missing}. Pass the integer labels alone (they go to "
                f"every output) or a dict {{{example}}}; to train fewer "
                "outputs, compile with a loss for those only."
            )

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        self._check_labels(y)
        return super().compute_loss(
            x=x,
            y=self._by_output(y, y_pred),
            y_pred=y_pred,
            sample_weight=self._by_output(sample_weight, y_pred, route_plain=False),
            training=training,
        )

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(
            x,
            self._by_output(y, y_pred),
            y_pred,
            sample_weight=self._by_output(sample_weight, y_pred, route_plain=False),
        )

    def __call__(self, images, *args, **kwargs):
        # Checked here rather than in `call`, so that the message is not
        # buried under Keras' dump of the call arguments.
        check_images(images, self.inputs[0].shape)
        return super().__call__(images, *args, **kwargs)


def classifier_dense(num_classes, fan_in):
    """The classifier's dense layer, initialised as PyTorch's `nn.Linear`.

    The authors' models (CIFAR ResNets and torchvision's) leave their final
    `nn.Linear` at PyTorch's default: kernel and bias uniform in
    +-1/sqrt(fan_in) (`lficam_tf.initializers.torch_linear_kernel`,
    `torch_linear_bias`), where Keras' default is Glorot uniform and zeros.

    Args:
        num_classes: int. Output units.
        fan_in: int. Input features (the channels of the pooled features).
    """
    return keras.layers.Dense(
        num_classes,
        kernel_initializer=torch_linear_kernel(),
        bias_initializer=torch_linear_bias(fan_in),
        name="classifier",
        dtype="float32",
    )


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
