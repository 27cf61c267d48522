import keras

from lficam_tf.api_export import lficam_export
from lficam_tf.layers.abn_attention_head import ABNAttentionHead
from lficam_tf.layers.residual_attention import ResidualAttention
from lficam_tf.models.classifier import ImageClassifier, classifier_dense
from lficam_tf.models.outputs import ATTENTION, ATTENTION_LOGITS, LOGITS
from lficam_tf.models.serialization import deserialize_parts, serialize_parts

_PARTS = ("extractor", "perception_stage", "attention_stage", "preprocessor")


@lficam_export("lficam_tf.models.ABNClassifier")
class ABNClassifier(ImageClassifier):
    """Attention Branch Network, the comparison model of the LFI-CAM paper.

    The extractor (backbone up to the stage before last) gives g. The
    attention branch, a stride-1 copy of the last stage and
    `ABNAttentionHead`, gives the attention-branch logits and the map M; the
    perception branch applies the original last stage to (1 + M) * g, then
    pooling and a dense layer (METHOD.md section 4). `compile()` puts a
    cross-entropy on both logits, so plain `model.fit(images, labels)`
    trains with ABN's two-term loss. Build one with
    `lficam_tf.build_model(backbone, num_classes, head="abn")`.

    Args:
        extractor: `keras.Model`, preprocessed images to g.
        perception_stage: `keras.Model`, the backbone's last stage on g.
        attention_stage: `keras.Model`, a stride-1 copy of that stage.
        num_classes: int. Number of classes.
        preprocessor: `keras.layers.Layer` or None. Defaults to `None`.
        **kwargs: `name` and `trainable`.

    Call arguments:
        images: float RGB in 0..255, `(batch_size, height, width, 3)`.
        training: bool.

    Returns:
        A dict: `"logits"` (perception branch), `"attention_logits"`
        (attention branch), both `(batch_size, num_classes)`, and
        `"attention"`, the map M of shape `(batch_size, h, w, 1)` at the
        extractor's resolution, in (0, 1).

    Example:

    >>> import numpy as np, lficam_tf
    >>> model = lficam_tf.build_model("cifar_resnet20", 10, head="abn")
    >>> tuple(model(np.zeros((1, 32, 32, 3)))["attention"].shape)
    (1, 16, 16, 1)

    Reference:
        - [Fukui et al., ABN, CVPR 2019](https://arxiv.org/abs/1812.10025)
    """

    LOSS_OUTPUTS = (LOGITS, ATTENTION_LOGITS)

    def __init__(
        self,
        extractor,
        perception_stage,
        attention_stage,
        num_classes,
        preprocessor=None,
        **kwargs,
    ):
        # === Layers ===
        self.extractor = extractor
        self.perception_stage = perception_stage
        self.attention_stage = attention_stage
        self.preprocessor = preprocessor
        self.attention_head = ABNAttentionHead(num_classes, name="attention_head")
        self.residual_attention = ResidualAttention(name="residual_attention")
        self.pooling = keras.layers.GlobalAveragePooling2D(name="pooling")
        self.classifier = classifier_dense(
            num_classes, perception_stage.output.shape[-1]
        )
        self.attention_logits = keras.layers.Activation(
            "linear", dtype="float32", name=ATTENTION_LOGITS
        )

        # === Functional Model ===
        images = keras.Input(extractor.input_shape[1:], name="images")
        x = preprocessor(images) if preprocessor is not None else images
        g = extractor(x)
        attention_logits, attention = self.attention_head(attention_stage(g))
        attended = self.residual_attention(g, attention)
        logits = self.classifier(self.pooling(perception_stage(attended)))
        kwargs.setdefault("name", "abn_classifier")
        self._init_functional(
            images,
            {
                LOGITS: logits,
                ATTENTION_LOGITS: self.attention_logits(attention_logits),
                ATTENTION: attention,
            },
            **kwargs,
        )

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
