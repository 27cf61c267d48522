import keras
from keras import ops

from lficam_tf import checks
from lficam_tf import ops as lfi_ops
from lficam_tf.api_export import lficam_export
from lficam_tf.choices import FIN_IMPLEMENTATIONS
from lficam_tf.initializers import he_normal_fan_out

#: `implementation="auto"` computes a convolution as a matrix product from
#: this many input x output channels on (1024 x 1024): measured on a 2-core
#: CPU (`benchmarks/fin_conv.py`, four convolutions forward and backward),
#: the product against `keras.ops.conv`: 8x8x64 batch 128 0.23x, 8x8x256
#: b128 0.55x, 7x7x512 b32 1.09x, 8x8x1024 b32 1.59x, 7x7x2048 b16 1.88x,
#: 4x4x2048 b16 3.25x.
MATMUL_MIN_KERNEL = 1024 * 1024

#: Backbones with at most this many feature channels keep the paper's K -> K
#: FIN by default (the authors' CIFAR ResNets, K = 64 to 256); wider ones get
#: the bottleneck FIN of `scaled_fin_width` (see `scaled_fin_width`).
FULL_WIDTH_MAX_CHANNELS = 256


def scaled_fin_width(channels):
    """The default FIN width for a backbone with `channels` feature maps.

    The paper's FIN is four K -> K 3x3 convolutions, 36 K^2 weights: 151 M on
    ResNet-50 (K = 2048), 6x the backbone, 27x MobileNetV2's. Above
    `FULL_WIDTH_MAX_CHANNELS` channels the default is the bottleneck FIN of
    width K / 16 (at least 64): 1x1 K -> W, 3x3 W -> W convolutions, 1x1
    W -> K, so 2 K W + 18 W^2 weights, 0.82 M on ResNet-50 (3.5 % of the
    backbone). Up to that many channels, None: the paper's width.

    >>> scaled_fin_width(64), scaled_fin_width(512), scaled_fin_width(2048)
    (None, 64, 128)
    """
    if channels <= FULL_WIDTH_MAX_CHANNELS:
        return None
    return max(64, channels // 16)


@lficam_export("lficam_tf.layers.FeatureImportanceNetwork")
class FeatureImportanceNetwork(keras.layers.Layer):
    """Feature Importance Network (FIN): one softmax weight per feature map.

    FIN looks at the feature maps multiplied by the grey, down-sampled input
    image and returns one importance weight per channel (METHOD.md section 2,
    steps 2 to 5):

    1. g: the channel mean of the (preprocessed) image, bilinearly resized to
       the feature maps' size;
    2. M = s(F) * g, with s the per-channel min-max normalisation (zero and
       constant channels handled without NaN);
    3. `depth` convolutions, 'same' padding, no bias, each followed by
       batch normalisation (epsilon 1e-5, momentum 0.9 as in PyTorch), with a
       ReLU after every second one (`relu="paired"`, the authors' CIFAR code)
       or after each (`relu="every"`, their last ImageNet commit);
    4. global average pooling and a softmax over the channels.

    With `width=None` the convolutions are the paper's K -> K 3x3 ones
    (36 K^2 weights at depth 4). With an int `width` W, FIN is a bottleneck:
    a 1x1 convolution K -> W, `depth - 2` 3x3 convolutions W -> W and a 1x1
    convolution W -> K (2 K W + 9 (depth - 2) W^2 weights), the same
    structure at a cost that no longer grows as K^2: 0.82 M weights instead
    of 151 M on ResNet-50 (K = 2048, W = 128). `scaled_fin_width` is the
    width `build_model` picks for wide backbones.

    Args:
        depth: int. Number of conv-BN units. Defaults to `4`.
        relu: str. `"paired"` (ReLU after the 2nd, 4th, ... BN) or `"every"`.
            Defaults to `"paired"`.
        width: int or None. Channels of the hidden convolutions (the
            bottleneck above; needs `depth >= 2`); the last one always
            returns K channels. `None` keeps the paper's K -> K width.
            Defaults to `None`.
        bottleneck: bool. With `width`, whether the first and last
            convolutions are 1x1 (the bottleneck above). `False` is the
            narrow FIN of lficam_tf 0.2 (3x3 K -> W, ..., 3x3 W -> K), kept so
            that its saved models load. Defaults to `True`.
        implementation: str. How the 3x3 convolutions are computed, the same
            sum either way: `"conv"` (`keras.ops.conv`), `"matmul"` (one
            matrix product over the nine shifted maps,
            `lficam_tf.ops.conv3x3_as_matmul`) or `"auto"`: `"matmul"` for
            kernels of at least 1024 x 1024 channels (ResNeXt-29's and
            ResNet-50's FIN, 1.6-1.9x faster to train on CPUs), `"conv"` for
            narrower ones (faster there). Defaults to `"auto"`.
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        features: feature maps F of shape `(batch_size, h, w, K)`.
        images: the preprocessed input images of shape
            `(batch_size, height, width, 3)`.
        training: bool. Whether the batch normalisations use batch statistics.

    Returns:
        Importance weights of shape `(batch_size, K)`; each row sums to 1.

    Example:

    >>> import numpy as np
    >>> fin = FeatureImportanceNetwork(depth=2)
    >>> features = np.random.rand(2, 4, 4, 8).astype("float32")
    >>> images = np.random.rand(2, 16, 16, 3).astype("float32")
    >>> weights = fin(features, images)
    >>> tuple(weights.shape)
    (2, 8)
    >>> bool(np.allclose(np.sum(weights, axis=-1), 1.0, atol=1e-5))
    True

    Reference:
        - [Lee et al., LFI-CAM, ICCV 2021](https://arxiv.org/abs/2105.00937)
    """

    def __init__(
        self,
        depth=checks.FIN_DEFAULTS["fin_depth"],
        relu=checks.FIN_DEFAULTS["fin_relu"],
        width=None,
        implementation="auto",
        bottleneck=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        checks.check_fin(depth, relu, width, bottleneck=bottleneck)
        checks.check_choice(implementation, "implementation", FIN_IMPLEMENTATIONS)
        self.depth = depth
        self.relu = relu
        self.width = width
        self.implementation = implementation
        self.bottleneck = bool(bottleneck)

    def _kernel_size(self, index):
        ends = index in (0, self.depth - 1)
        return 1 if self.width is not None and self.bottleneck and ends else 3

    def _has_relu(self, index):
        return self.relu == "every" or index % 2 == 1

    def _as_matmul(self, conv):
        if self.implementation != "auto":
            return self.implementation == "matmul"
        _, _, c_in, c_out = conv.kernel.shape
        return c_in * c_out >= MATMUL_MIN_KERNEL

    def _convolve(self, conv, x):
        if conv.kernel.shape[0] == 3 and self._as_matmul(conv):
            return lfi_ops.conv3x3_as_matmul(x, ops.cast(conv.kernel, x.dtype))
        return conv(x)

    def build(self, features_shape, images_shape):
        if len(features_shape) != 4 or len(images_shape) != 4:
            raise ValueError(
                "FeatureImportanceNetwork expects features of shape "
                "(batch, h, w, K) and images of shape (batch, H, W, 3). "
                f"Received: features.shape={features_shape}, "
                f"images.shape={images_shape}"
            )
        channels = features_shape[-1]
        shape = tuple(features_shape)
        self.convs, self.norms = [], []
        for index in range(self.depth):
            filters = channels if index == self.depth - 1 else self.width or channels
            conv = keras.layers.Conv2D(
                filters,
                self._kernel_size(index),
                padding="same",
                use_bias=False,
                kernel_initializer=he_normal_fan_out(),
                dtype=self.dtype_policy,
                name=f"conv_{index}",
            )
            conv.build(shape)
            shape = shape[:-1] + (filters,)
            norm = keras.layers.BatchNormalization(
                epsilon=1e-5, momentum=0.9, dtype=self.dtype_policy, name=f"bn_{index}"
            )
            norm.build(shape)
            self.convs.append(conv)
            self.norms.append(norm)

    def call(self, features, images, training=None):
        grey = lfi_ops.grey_image_at(
            ops.cast(images, features.dtype), ops.shape(features)[1:3]
        )
        x = lfi_ops.normalize_feature_maps(features) * grey
        for index, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = norm(self._convolve(conv, x), training=training)
            if self._has_relu(index):
                x = ops.relu(x)
        return ops.softmax(ops.mean(x, axis=(1, 2)), axis=-1)

    def compute_output_shape(self, features_shape, images_shape):
        return (features_shape[0], features_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "depth": self.depth,
                "relu": self.relu,
                "width": self.width,
                "implementation": self.implementation,
                "bottleneck": self.bottleneck,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        # Configs written before the bottleneck FIN have no such key: their
        # narrow FIN was 3x3 throughout.
        return cls(**{"bottleneck": False, **config})
