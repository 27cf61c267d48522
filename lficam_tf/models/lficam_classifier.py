import keras

from lficam_tf.api_export import lficam_export
from lficam_tf.checks import FIN_DEFAULTS
from lficam_tf.layers.feature_importance_network import FeatureImportanceNetwork
from lficam_tf.layers.lfi_attention_map import LFIAttentionMap
from lficam_tf.layers.residual_attention import ResidualAttention
from lficam_tf.models.classifier import ImageClassifier, classifier_dense
from lficam_tf.models.outputs import ATTENTION, IMPORTANCE, LOGITS
from lficam_tf.models.serialization import deserialize_parts, serialize_parts

_PARTS = ("backbone", "preprocessor", "post_attention")


@lficam_export("lficam_tf.models.LFICAMClassifier")
class LFICAMClassifier(ImageClassifier):
    """A CNN classifier that explains itself with LFI-CAM.

    images (RGB, 0..255) -> preprocessing -> backbone -> feature maps F;
    the Feature Importance Network weighs the channels (w), the weighted sum
    is the attention map A, and the classifier sees (1 + A) * F through
    global average pooling and a dense layer (METHOD.md section 2); a
    backbone whose own layers follow F in the original network (DenseNet's
    final BN and ReLU) has them run on (1 + A) * F first, as
    `post_attention`. Map and
    prediction come from one forward pass. Build one with
    `lficam_tf.build_model(backbone, num_classes, head="lficam")`.

    Args:
        backbone: `keras.Model` from preprocessed images to feature maps of
            shape `(batch_size, h, w, K)`.
        num_classes: int. Number of classes.
        preprocessor: `keras.layers.Layer` or None. Maps RGB 0..255 to what the
            backbone expects. Defaults to `None`.
        fin_depth: int. FIN's conv-BN units. Defaults to `4`.
        fin_relu: str. `"paired"` or `"every"`. Defaults to `"paired"`.
        fin_width: int or None. FIN's bottleneck width; `None` is the
            paper's K -> K FIN. Defaults to `None` (`build_model` chooses
            the backbone's default).
        fin_bottleneck: bool. With `fin_width`, whether FIN's first and last
            convolutions are 1x1 (`FeatureImportanceNetwork`'s
            `bottleneck`). Models saved by lficam_tf 0.2 load with `False`.
            Defaults to `True`.
        post_attention: `keras.Model` or None. The backbone's layers after F,
            applied to (1 + A) * F before the pooling; it keeps the shape.
            Defaults to `None`.
        **kwargs: `name` and `trainable`.

    Call arguments:
        images: float RGB in 0..255, `(batch_size, height, width, 3)`.
        training: bool.

    Returns:
        A dict: `"logits"` `(batch_size, num_classes)`, `"attention"`
        `(batch_size, h, w, 1)` in [0, 1], `"importance"` `(batch_size, K)`
        with rows summing to 1.

    Example:

    >>> import numpy as np, lficam_tf
    >>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
    >>> out = model(np.random.uniform(0, 255, (2, 32, 32, 3)))
    >>> tuple(out["logits"].shape), tuple(out["attention"].shape)
    ((2, 10), (2, 8, 8, 1))

    Reference:
        - [Lee et al., LFI-CAM, ICCV 2021](https://arxiv.org/abs/2105.00937)
    """

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        fin_depth=FIN_DEFAULTS["fin_depth"],
        fin_relu=FIN_DEFAULTS["fin_relu"],
        fin_width=None,
        post_attention=None,
        fin_bottleneck=True,
        **kwargs,
    ):
        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.post_attention = post_attention
        self.feature_importance = FeatureImportanceNetwork(
            depth=fin_depth,
            relu=fin_relu,
            width=fin_width,
            bottleneck=fin_bottleneck,
            name="feature_importance",
        )
        self.attention_map = LFIAttentionMap(name="attention_map")
        self.residual_attention = ResidualAttention(name="residual_attention")
        self.pooling = keras.layers.GlobalAveragePooling2D(name="pooling")
        self.classifier = classifier_dense(num_classes, backbone.output.shape[-1])

        # === Functional Model ===
        images = keras.Input(backbone.input_shape[1:], name="images")
        x = preprocessor(images) if preprocessor is not None else images
        features = backbone(x)
        importance = self.feature_importance(features, x)
        attention = self.attention_map(features, importance)
        attended = self.residual_attention(features, attention)
        if post_attention is not None:
            attended = post_attention(attended)
        logits = self.classifier(self.pooling(attended))
        kwargs.setdefault("name", "lficam_classifier")
        self._init_functional(
            images,
            {LOGITS: logits, ATTENTION: attention, IMPORTANCE: importance},
            **kwargs,
        )

        # === Config ===
        self.num_classes = num_classes
        self.fin_depth = fin_depth
        self.fin_relu = fin_relu
        self.fin_width = fin_width
        self.fin_bottleneck = fin_bottleneck

    def get_config(self):
        return {
            **serialize_parts(self, _PARTS),
            "num_classes": self.num_classes,
            "fin_depth": self.fin_depth,
            "fin_relu": self.fin_relu,
            "fin_width": self.fin_width,
            "fin_bottleneck": self.fin_bottleneck,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        # lficam_tf 0.2 wrote no `fin_bottleneck`: its narrow FIN was 3x3.
        config = {"fin_bottleneck": False, **config}
        return cls(**deserialize_parts(config, _PARTS))
