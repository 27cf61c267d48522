"""The LFI-CAM authors' CIFAR DenseNet-BC (METHOD.md section 3).

The authors' `models/cifar/densenet_lfiv2.py` (from bearpaw's
pytorch-classification, like the ABN authors' CIFAR DenseNet): a 3x3 stem
convolution to 2k channels, then three dense blocks of (depth - 4) / 6
bottleneck layers (BN, ReLU, 1x1 conv to 4k, BN, ReLU, 3x3 conv to k, the
result concatenated to the input) with a transition between blocks (BN,
ReLU, 1x1 conv to floor(channels / compression), 2x2 average pooling). k is
the growth rate. DenseNet-BC-100 with k = 12 and compression 2 has
24 -> 216 -> 108 -> 300 -> 150 -> 342 channels: 8x8x342 maps at 32x32.

Unlike the ResNets, the feature maps F are the *raw* output of the third
dense block (a concatenation of convolution outputs, so they can be
negative): FIN and the residual attention act on them, and the network's
final BN and ReLU run on F' = (1 + A) F, before the pooling and the
classifier. That final BN -> ReLU is the backbone's post-attention block
(`BackboneSpec.post_attention`); the plain baseline applies it to F.

Convolutions have no bias and the authors' initialisation,
N(0, 2 / (k * k * out_channels)); BN gamma 1, beta 0, epsilon 1e-5,
momentum 0.9 as in PyTorch.

FIN is the package's K -> K one (METHOD.md section 2; 4,213,440 parameters
on K = 342). The stored version of the authors' file narrows its second
convolution to K / 3 (K -> K/3 -> K -> K); `fin_width` does not reproduce
that shape, and the parameter counts this package pins are the K -> K ones.
"""

import keras

from lficam_tf.backbones import weights as weights_lib
from lficam_tf.backbones.registry import BackboneSpec, register_backbone
from lficam_tf.backbones.resnet_blocks import BN_EPSILON, BN_MOMENTUM
from lficam_tf.initializers import he_normal_fan_out


def _bn_relu_conv(x, filters, kernel_size, name):
    x = keras.layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_bn"
    )(x)
    x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        use_bias=False,
        kernel_initializer=he_normal_fan_out(),
        name=f"{name}_conv",
    )(x)


def dense_block(x, layers, growth_rate, name):
    """`layers` bottleneck layers, each adding `growth_rate` channels."""
    for index in range(1, layers + 1):
        prefix = f"{name}_layer{index}"
        y = _bn_relu_conv(x, 4 * growth_rate, 1, f"{prefix}_1")
        y = _bn_relu_conv(y, growth_rate, 3, f"{prefix}_2")
        x = keras.layers.Concatenate(name=f"{prefix}_concat")([x, y])
    return x


def transition(x, compression, name):
    """BN, ReLU, 1x1 conv to floor(channels / compression), 2x2 average pool."""
    x = _bn_relu_conv(x, x.shape[-1] // compression, 1, name)
    return keras.layers.AveragePooling2D(2, name=f"{name}_pool")(x)


def _final_bn_relu(x):
    x = keras.layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name="final_bn"
    )(x)
    return keras.layers.ReLU(name="final_relu")(x)


def post_attention_block(features_shape, name="post_attention"):
    """The DenseNet's final BN and ReLU, as a model of their own.

    Applied to F' = (1 + A) F by the LFI-CAM head and to F by the baseline.

    Args:
        features_shape: `(h, w, K)` of the feature maps.
        name: str. The model's name. Defaults to `"post_attention"`.

    Returns:
        A `keras.Model` from `(batch_size, h, w, K)` to the same shape.

    Example:

    >>> block = post_attention_block((8, 8, 342))
    >>> [layer.name for layer in block.layers[1:]], tuple(block.output.shape)
    (['final_bn', 'final_relu'], (None, 8, 8, 342))
    """
    inputs = keras.Input(tuple(features_shape), name=f"{name}_input")
    return keras.Model(inputs, _final_bn_relu(inputs), name=name)


def _layers_per_block(depth):
    if (depth - 4) % 6:
        raise ValueError(
            f"`depth` must be 6n + 4 (DenseNet-BC). Received: depth={depth}"
        )
    return (depth - 4) // 6


def _name(depth, growth_rate):
    return f"cifar_densenet_bc{depth}" + (
        "" if growth_rate == 12 else f"_k{growth_rate}"
    )


def _stem_to_dense2(inputs, depth, growth_rate, compression):
    """Stem, dense1, trans1, dense2, trans2: where the last block starts."""
    n = _layers_per_block(depth)
    x = keras.layers.Conv2D(
        2 * growth_rate,
        3,
        padding="same",
        use_bias=False,
        kernel_initializer=he_normal_fan_out(),
        name="stem_conv",
    )(inputs)
    x = dense_block(x, n, growth_rate, "dense1")
    x = transition(x, compression, "trans1")
    x = dense_block(x, n, growth_rate, "dense2")
    return transition(x, compression, "trans2")


def cifar_densenet(
    depth=100, growth_rate=12, compression=2, input_shape=(32, 32, 3), weights=None
):
    """The CIFAR DenseNet-BC up to the raw output of its last dense block.

    Args:
        depth: int. 6n + 4 layers, n bottleneck layers per dense block.
            Defaults to `100`.
        growth_rate: int. Channels each layer adds (k). Defaults to `12`.
        compression: int. Transitions divide the channels by this.
            Defaults to `2`.
        input_shape: `(height, width, 3)`. Defaults to `(32, 32, 3)`.
        weights: None or the path of a weights file saved from this
            backbone. Defaults to `None`.

    Returns:
        A `keras.Model` from preprocessed images to F, without the final BN
        and ReLU (see `post_attention_block`).
    """
    name = _name(depth, growth_rate)
    inputs = keras.Input(input_shape, name="images")
    x = _stem_to_dense2(inputs, depth, growth_rate, compression)
    x = dense_block(x, _layers_per_block(depth), growth_rate, "dense3")
    model = keras.Model(inputs, x, name=name)
    return weights_lib.load_weights(model, weights, name)


def cifar_densenet_abn(
    depth=100, growth_rate=12, compression=2, input_shape=(32, 32, 3), weights=None
):
    """The three parts of an ABN on the CIFAR DenseNet-BC (the ABN authors' model).

    As in the ABN authors' `models/cifar/densenet.py`: the extractor ends
    after the second transition (8x8 at 32x32, so the map M has the
    resolution of the features); the perception stage is the third dense
    block followed by the final BN and ReLU; the attention stage is a copy
    of the third dense block (its raw output goes to the attention head's
    own BN). A weights file for the plain backbone initialises the
    extractor and the perception stage's dense block; the final BN (the
    post-attention block, not part of the backbone's file) and the
    attention stage start from scratch.
    """
    name = _name(depth, growth_rate)
    n = _layers_per_block(depth)
    inputs = keras.Input(input_shape, name="images")
    extractor = keras.Model(
        inputs,
        _stem_to_dense2(inputs, depth, growth_rate, compression),
        name=f"{name}_extractor",
    )

    def last_block(stage_name, final):
        stage_input = keras.Input(
            extractor.output.shape[1:], name=f"{stage_name}_input"
        )
        x = dense_block(stage_input, n, growth_rate, "dense3")
        if final:
            x = _final_bn_relu(x)
        return keras.Model(stage_input, x, name=stage_name)

    parts = (
        extractor,
        last_block(f"{name}_perception_stage", final=True),
        last_block(f"{name}_attention_stage", final=False),
    )
    if weights is not None:
        plain = cifar_densenet(depth, growth_rate, compression, input_shape, weights)
        weights_lib.copy_weights_by_name(plain, parts[:2], skip=("final_bn",))
    return parts


register_backbone(
    BackboneSpec(
        name="cifar_densenet_bc100",
        build=cifar_densenet,
        build_abn=cifar_densenet_abn,
        channels=342,
        stride=4,
        input_shape=(32, 32, 3),
        preprocessing="cifar",
        feature_layer="dense3_layer16_concat",
        family="cifar_densenet",
        post_attention=post_attention_block,
        description="CIFAR DenseNet-BC-100 (k=12), 8x8x342 maps at 32x32; final "
        "BN-ReLU after the attention",
    )
)
