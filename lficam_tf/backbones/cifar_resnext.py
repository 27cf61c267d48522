"""The LFI-CAM authors' CIFAR ResNeXt-29 (METHOD.md section 3).

The authors' `models/cifar/resnext_lfiv2.py` (from prlz77/ResNeXt.pytorch,
like the ABN authors' CIFAR ResNeXt): a 3x3 stem convolution of 64 filters,
BN and ReLU, then three stages of (depth - 2) / 9 type-C bottleneck blocks
(`resnet_blocks.resnext_block`) with 64, 128 and 256 times `widen_factor`
output channels and strides 1, 2, 2. A block's 3x3 convolution has
`cardinality` groups and D = cardinality * out_channels / widen_factor
channels: 512, 1024 and 2048 for ResNeXt-29 8x64d (8 groups of 64 in the
first stage). 32x32 inputs give 8x8x1024 feature maps; FIN acts on them and
the classifier is global average pooling and a dense layer (no final BN).

Initialisation as in the authors' code: convolutions He-normal with fan-out
(`init.kaiming_normal(..., mode='fan_out')`, which for a grouped convolution
counts all output channels, as Keras' fan-out does), BN gamma 1 and beta 0.
Their classifier starts He-normal with fan-in and a zero bias; the package's
classifier is the same for every backbone (PyTorch's `nn.Linear` default,
see `lficam_tf.models.classifier.classifier_dense`), so that one differs.
"""

import functools

import keras

from lficam_tf.backbones import weights as weights_lib
from lficam_tf.backbones.registry import BackboneSpec, register_backbone
from lficam_tf.backbones.resnet_blocks import conv_bn, resnext_block, staged_backbone


def _stem(x):
    return conv_bn(x, 64, 3, 1, "stem", relu=True)


def _layout(depth, cardinality, widen_factor):
    if (depth - 2) % 9:
        raise ValueError(f"`depth` must be 9n + 2. Received: depth={depth}")
    n = (depth - 2) // 9
    block = functools.partial(
        resnext_block, cardinality=cardinality, widen_factor=widen_factor
    )
    stages = [(c * widen_factor, n, s) for c, s in ((64, 1), (128, 2), (256, 2))]
    return block, stages


def _parts(depth, cardinality, widen_factor, input_shape, split):
    block, stages = _layout(depth, cardinality, widen_factor)
    name = f"cifar_resnext{depth}_{cardinality}x{64 * widen_factor // cardinality}d"
    inputs = keras.Input(input_shape, name="images")
    return name, staged_backbone(inputs, _stem, stages, block, name, split)


def cifar_resnext(
    depth=29, cardinality=8, widen_factor=4, input_shape=(32, 32, 3), weights=None
):
    """The CIFAR ResNeXt as a feature extractor (no pooling, no head).

    Args:
        depth: int. 9n + 2 layers, n blocks per stage. Defaults to `29`.
        cardinality: int. Groups of the 3x3 convolutions. Defaults to `8`.
        widen_factor: int. Stage widths are 64, 128 and 256 times this.
            Defaults to `4` (8x64d with cardinality 8).
        input_shape: `(height, width, 3)`. Defaults to `(32, 32, 3)`.
        weights: None or the path of a weights file saved from this
            backbone. Defaults to `None`.

    Returns:
        A `keras.Model` from preprocessed images to the last stage's output.
    """
    name, model = _parts(depth, cardinality, widen_factor, input_shape, split=False)
    return weights_lib.load_weights(model, weights, name)


def cifar_resnext_abn(
    depth=29, cardinality=8, widen_factor=4, input_shape=(32, 32, 3), weights=None
):
    """The three parts of an ABN on the CIFAR ResNeXt (the ABN authors' model).

    The extractor ends after the second stage (16x16 at 32x32); the
    attention stage is a stride-1 copy of the third. A weights file for the
    plain backbone initialises the extractor and the perception stage; the
    attention stage starts from random weights, as in the ABN authors' code.
    """
    _, parts = _parts(depth, cardinality, widen_factor, input_shape, split=True)
    if weights is not None:
        plain = cifar_resnext(depth, cardinality, widen_factor, input_shape, weights)
        weights_lib.copy_weights_by_name(plain, parts[:2])
    return parts


register_backbone(
    BackboneSpec(
        name="cifar_resnext29_8x64d",
        build=cifar_resnext,
        build_abn=cifar_resnext_abn,
        channels=1024,
        stride=4,
        input_shape=(32, 32, 3),
        preprocessing="cifar",
        feature_layer="stage3_block3_out",
        family="cifar_resnext",
        description="CIFAR ResNeXt-29 8x64d, 8x8x1024 maps at 32x32 (34.4 M "
        "parameters before FIN)",
    )
)
