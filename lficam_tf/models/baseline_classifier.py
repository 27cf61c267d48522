import keras

from lficam_tf.api_export import lficam_export
from lficam_tf.models.classifier import ImageClassifier, classifier_dense
from lficam_tf.models.outputs import LOGITS
from lficam_tf.models.serialization import deserialize_parts, serialize_parts

_PARTS = ("backbone", "preprocessor", "post_attention")


@lficam_export("lficam_tf.models.BaselineClassifier")
class BaselineClassifier(ImageClassifier):
    """The plain classifier: backbone, global average pooling, dense layer.

    The LFI-CAM model with its attention removed (A = 0), on the same
    backbone, preprocessing and recipe, so that experiments compare like
    with like. Build one with `lficam_tf.build_model(..., head="baseline")`.

    Args:
        backbone: `keras.Model` from preprocessed images to feature maps.
        num_classes: int. Number of classes.
        preprocessor: `keras.layers.Layer` or None. Defaults to `None`.
        post_attention: `keras.Model` or None. The backbone's layers after F
            (DenseNet's final BN and ReLU), applied to F before the pooling,
            as in `LFICAMClassifier` with A = 0. Defaults to `None`.
        **kwargs: `name` and `trainable`.

    Call arguments:
        images: float RGB in 0..255, `(batch_size, height, width, 3)`.
        training: bool.

    Returns:
        A dict with `"logits"` of shape `(batch_size, num_classes)`.

    Example:

    >>> import numpy as np, lficam_tf
    >>> model = lficam_tf.build_model("cifar_resnet20", 10, head="baseline")
    >>> tuple(model(np.zeros((1, 32, 32, 3)))["logits"].shape)
    (1, 10)
    """

    def __init__(
        self, backbone, num_classes, preprocessor=None, post_attention=None, **kwargs
    ):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.post_attention = post_attention
        self.pooling = keras.layers.GlobalAveragePooling2D(name="pooling")
        self.classifier = classifier_dense(num_classes, backbone.output.shape[-1])

        # === Functional Model ===
        images = keras.Input(backbone.input_shape[1:], name="images")
        x = preprocessor(images) if preprocessor is not None else images
        features = backbone(x)
        if post_attention is not None:
            features = post_attention(features)
        logits = self.classifier(self.pooling(features))
        kwargs.setdefault("name", "baseline_classifier")
        self._init_functional(images, {LOGITS: logits}, **kwargs)

        # === Config ===
        self.num_classes = num_classes

    def get_config(self):
        return {
            **serialize_parts(self, _PARTS),
            "num_classes": self.num_classes,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_parts(config, _PARTS))
