"""Maps that a model computes itself: LFI-CAM's attention, ABN's attention.

An LFI-CAM model returns its map A next to its logits, and an ABN model its
map M: the explanation is read from the *same* forward pass as the
prediction (one call of the model per batch), then brought to the common
format of `lficam_tf.explain` (bilinear up-sampling to the input, per-image
min-max to [0, 1]; for LFI-CAM, whose A is already min-maxed at feature
resolution, this only undoes the slight shrinking of the interpolation).
These maps do not depend on a class: LFI-CAM's and ABN's attention is the
same whichever class is explained.

`SavedModelAttention` reads the same map out of a TF Serving export (a
SavedModel whose `serving_default` signature returns `"probabilities"` and
`"attention"`, as `lficam_tf.export.export` writes it).

TensorFlow-specific module (`tf.function`, SavedModel signatures).
"""

import tensorflow as tf

from lficam_tf.api_export import lficam_export
from lficam_tf.explain.maps import to_input_resolution
from lficam_tf.models import outputs as model_outputs
from lficam_tf.models.outputs import native_method


@lficam_export("lficam_tf.explain.NativeAttention")
class NativeAttention:
    """The model's own map (LFI-CAM or ABN) from its forward pass.

    Args:
        model: an LFI-CAM (`"attention"`, `"importance"` outputs) or ABN
            (`"attention"`, `"attention_logits"`) model of this package.
        method: `"lficam"`, `"abn"` or `"native"` (whichever the model has).
            Defaults to `"native"`.

    Call arguments:
        images: float RGB 0..255, `(batch_size, height, width, 3)`.
        class_index: int32 `(batch_size,)`, -1 for the prediction. It only
            sets the returned targets: the map is the same for every class.

    Returns:
        `(maps, probabilities, class_index)` as `lficam_tf.explain.BaseCAM`.

    Example:

    >>> import numpy as np, lficam_tf
    >>> model = lficam_tf.build_model("cifar_resnet20", 10)
    >>> maps, probabilities, _ = NativeAttention(model)(
    ...     np.zeros((2, 32, 32, 3)), np.array([-1, -1]))
    >>> tuple(maps.shape), tuple(probabilities.shape)
    ((2, 32, 32), (2, 10))
    """

    def __init__(self, model, method="native"):
        kind = native_method(model)
        if kind is None:
            raise ValueError(
                f"`method` must be a post-hoc method for this model: method="
                f"{method!r} reads the map an LFI-CAM or ABN model computes itself "
                "(outputs 'attention' with 'importance' or 'attention_logits'), "
                "and this model has none. Use method='gradcam', 'gradcam++' or "
                "'scorecam'."
            )
        if method not in ("native", kind):
            raise ValueError(
                f"`method` must be 'native' or {kind!r} for this {kind.upper()} "
                f"model: method={method!r} is the other model family's map. "
                f"Received: method={method!r}"
            )
        self.model = model
        self.method = kind
        self.num_classes = model_outputs.logits(model.output).shape[-1]
        shape = tuple(model.inputs[0].shape)
        self.image_size = tuple(shape[1:3])
        signature = None
        if None not in shape[1:]:
            signature = [
                tf.TensorSpec((None,) + shape[1:], tf.float32),
                tf.TensorSpec((None,), tf.int32),
            ]
        self._function = tf.function(self._explain_batch, input_signature=signature)

    def _explain_batch(self, images, class_index):
        outputs = self.model(images, training=False)
        probabilities = tf.nn.softmax(
            tf.cast(model_outputs.logits(outputs), tf.float32)
        )
        predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        target = tf.where(class_index < 0, predicted, class_index)
        maps = to_input_resolution(outputs[model_outputs.ATTENTION], images.shape[1:3])
        return maps, probabilities, target

    def __call__(self, images, class_index):
        return self._function(
            tf.cast(images, tf.float32), tf.cast(class_index, tf.int32)
        )


def is_saved_model(model):
    """Whether `model` is a loaded SavedModel (`tf.saved_model.load`)."""
    return not hasattr(model, "layers") and hasattr(model, "signatures")


@lficam_export("lficam_tf.explain.SavedModelAttention")
class SavedModelAttention:
    """The native map of a TF Serving export, from its `serving_default`.

    The signature must take the images (its one input) and return
    `"probabilities"` `(batch_size, num_classes)` and `"attention"` (at any
    resolution, `(batch_size, h, w)` or `(batch_size, h, w, 1)`); the map is
    brought to the input resolution and min-max normalised like every other.

    Args:
        loaded: the object returned by `tf.saved_model.load(path)`.
        signature: str. Defaults to `"serving_default"`.

    Call arguments and returns: as `NativeAttention`.
    """

    method = "native"

    def __init__(self, loaded, signature="serving_default"):
        signatures = getattr(loaded, "signatures", {})
        if signature not in signatures:
            raise ValueError(
                f"`signature` must be one of the SavedModel's signatures "
                f"{sorted(signatures)}. Received: signature={signature!r}"
            )
        self.function = signatures[signature]
        outputs = self.function.structured_outputs
        needed = ("probabilities", model_outputs.ATTENTION)
        missing = [k for k in needed if k not in outputs]
        if missing:
            raise ValueError(
                "The SavedModel's `serving_default` must return 'probabilities' "
                f"and 'attention' (an LFI-CAM or ABN export); it lacks {missing}. "
                f"Received outputs: {sorted(outputs)}. Post-hoc methods need the "
                ".keras model."
            )
        inputs = self.function.structured_input_signature[1]
        if len(inputs) != 1:
            raise ValueError(
                "The SavedModel's signature must take one input, the images. "
                f"Received inputs: {sorted(inputs)}"
            )
        ((self.input_name, spec),) = inputs.items()
        self.input_spec = spec
        self.num_classes = outputs["probabilities"].shape[-1]
        # The export declares images of unknown rank (it checks them itself);
        # its up-sampled `attention` output has the input size.
        if spec.shape.rank == 4 and None not in spec.shape[1:3]:
            self.image_size = tuple(spec.shape[1:3])
        else:
            self.image_size = tuple(outputs[model_outputs.ATTENTION].shape[1:3])
        if None in self.image_size:
            self.image_size = None
        #: Class names the export returned so far, `{class index: name}`
        #: (an export with `class_names` names its top-k classes per image).
        self.class_names = {}

    def __call__(self, images, class_index):
        images = tf.convert_to_tensor(images)
        if self.input_spec.dtype == tf.uint8:
            images = tf.cast(
                tf.clip_by_value(tf.round(tf.cast(images, tf.float32)), 0, 255),
                tf.uint8,
            )
        else:
            images = tf.cast(images, self.input_spec.dtype)
        outputs = self.function(**{self.input_name: images})
        if "class_names" in outputs and "classes" in outputs:
            for index, name in zip(
                outputs["classes"].numpy().ravel(),
                outputs["class_names"].numpy().ravel(),
            ):
                self.class_names[int(index)] = name.decode("utf-8")
        probabilities = tf.cast(outputs["probabilities"], tf.float32)
        predicted = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        class_index = tf.cast(class_index, tf.int32)
        target = tf.where(class_index < 0, predicted, class_index)
        maps = to_input_resolution(outputs[model_outputs.ATTENTION], images.shape[1:3])
        return maps, probabilities, target
