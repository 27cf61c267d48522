import keras
from keras import ops

from lficam_tf.api_export import lficam_export
from lficam_tf.initializers import he_normal_fan_out


@lficam_export("lficam_tf.layers.ABNAttentionHead")
class ABNAttentionHead(keras.layers.Layer):
    """The head of the Attention Branch Network's attention branch.

    On the output of the attention branch's stage (a stride-1 copy of the
    backbone's last stage): BN -> 1x1 conv to C (classes) channels -> BN ->
    ReLU, which splits into (a) 1x1 conv C -> C -> global average pooling =
    the attention-branch logits and (b) 3x3 conv C -> 1 -> BN -> sigmoid =
    the attention map M (METHOD.md section 4). Convolutions have no bias, as
    in the ABN authors' code.

    Args:
        num_classes: int. Number of classes C.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        features: output of the attention stage, `(batch_size, h, w, channels)`.
        training: bool. Whether the batch normalisations use batch statistics.

    Returns:
        A tuple `(attention_logits, attention)` of shapes
        `(batch_size, num_classes)` and `(batch_size, h, w, 1)`; the map is in
        (0, 1).

    Example:

    >>> import numpy as np
    >>> head = ABNAttentionHead(num_classes=5)
    >>> logits, attention = head(np.random.rand(2, 4, 4, 16).astype("float32"))
    >>> tuple(logits.shape), tuple(attention.shape)
    ((2, 5), (2, 4, 4, 1))

    Reference:
        - [Fukui et al., ABN, CVPR 2019](https://arxiv.org/abs/1812.10025)
    """

    def __init__(self, num_classes, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_classes, bool) or not isinstance(num_classes, int):
            raise TypeError(
                f"`num_classes` must be an int. Received: num_classes={num_classes!r}"
            )
        if num_classes < 1:
            raise ValueError(
                f"`num_classes` must be at least 1. Received: num_classes={num_classes}"
            )
        self.num_classes = num_classes

    def build(self, features_shape):
        def conv(filters, size, name):
            return keras.layers.Conv2D(
                filters,
                size,
                padding="same",
                use_bias=False,
                kernel_initializer=he_normal_fan_out(),
                dtype=self.dtype_policy,
                name=name,
            )

        def norm(name):
            return keras.layers.BatchNormalization(
                epsilon=1e-5, momentum=0.9, dtype=self.dtype_policy, name=name
            )

        shape = tuple(features_shape)
        class_shape = shape[:-1] + (self.num_classes,)
        self.input_norm = norm("input_bn")
        self.input_norm.build(shape)
        self.class_conv = conv(self.num_classes, 1, "class_conv")
        self.class_conv.build(shape)
        self.class_norm = norm("class_bn")
        self.class_norm.build(class_shape)
        self.logits_conv = conv(self.num_classes, 1, "logits_conv")
        self.logits_conv.build(class_shape)
        self.map_conv = conv(1, 3, "map_conv")
        self.map_conv.build(class_shape)
        self.map_norm = norm("map_bn")
        self.map_norm.build(shape[:-1] + (1,))

    def call(self, features, training=None):
        x = self.input_norm(features, training=training)
        x = ops.relu(self.class_norm(self.class_conv(x), training=training))
        logits = ops.mean(self.logits_conv(x), axis=(1, 2))
        attention = ops.sigmoid(self.map_norm(self.map_conv(x), training=training))
        return logits, attention

    def compute_output_shape(self, features_shape):
        return (
            (features_shape[0], self.num_classes),
            tuple(features_shape[:-1]) + (1,),
        )

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
