"""The LFI-CAM authors' CIFAR ResNets (METHOD.md section 3).

n = (depth - 2) / 6 blocks per stage, three stages of 16, 32, 64 planes with
strides 1, 2, 2; basic blocks below depth 44, bottleneck blocks (expansion 4)
from 44 on; a 3x3 stem of 16 filters. 32x32 inputs give 8x8 feature maps.

Not the authors': depth 8 (one block per stage), and `stem_stride=2`, a
stride-2 stem that gives 64x64 inputs the cost of 32x32 ones (and 8x8
maps); the default job (`train_tf.py --preset shapes`) uses both to stay
within minutes on any CPU.
"""

import functools

import keras

from lficam_tf.backbones import weights as weights_lib
from lficam_tf.backbones.registry import BackboneSpec, register_backbone
from lficam_tf.backbones.resnet_blocks import (
    check_stem_stride,
    conv_bn,
    staged_backbone,
)


def _stem(stem_stride):
    check_stem_stride(stem_stride)
    return lambda x: conv_bn(x, 16, 3, stem_stride, "stem", relu=True)


def _layout(depth):
    if (depth - 2) % 6:
        raise ValueError(f"`depth` must be 6n + 2. Received: depth={depth}")
    n = (depth - 2) // 6
    block = "bottleneck" if depth >= 44 else "basic"
    return block, [(16, n, 1), (32, n, 2), (64, n, 2)]


def cifar_resnet(depth, input_shape=(32, 32, 3), weights=None, stem_stride=1):
    """The CIFAR ResNet of `depth` as a feature extractor (no pooling, no head)."""
    name = f"cifar_resnet{depth}"
    block, stages = _layout(depth)
    model = staged_backbone(
        keras.Input(input_shape, name="images"),
        _stem(stem_stride),
        stages,
        block,
        name,
        split=False,
    )
    return weights_lib.load_weights(model, weights, name)


def cifar_resnet_abn(depth, input_shape=(32, 32, 3), weights=None, stem_stride=1):
    """The three parts of an ABN on the CIFAR ResNet of `depth`.

    A weights file for the plain backbone initialises the extractor and the
    perception stage; the attention stage is new.
    """
    block, stages = _layout(depth)
    parts = staged_backbone(
        keras.Input(input_shape, name="images"),
        _stem(stem_stride),
        stages,
        block,
        f"cifar_resnet{depth}",
        split=True,
    )
    if weights is not None:
        weights_lib.copy_weights_by_name(
            cifar_resnet(depth, input_shape, weights, stem_stride), parts[:2]
        )
    return parts


for _depth in (8, 20, 32, 56, 110):
    _block, _stages = _layout(_depth)
    register_backbone(
        BackboneSpec(
            name=f"cifar_resnet{_depth}",
            build=functools.partial(cifar_resnet, _depth),
            build_abn=functools.partial(cifar_resnet_abn, _depth),
            channels=64 * (4 if _block == "bottleneck" else 1),
            stride=4,
            input_shape=(32, 32, 3),
            preprocessing="cifar",
            feature_layer=f"stage3_block{_stages[-1][1]}_out",
            family="cifar_resnet",
            options={"stem_stride": 1},
            description=(
                f"CIFAR ResNet-{_depth} ({_block} blocks), 8x8 maps at 32x32; "
                "stem_stride=2 gives 8x8 at 64x64"
            ),
        )
    )
