"""ImageNet-style ResNet-18 and ResNet-34 (the authors' STL-10 and Cat&Dog nets).

A 7x7 stem convolution (stride 2, or 1 as in the authors' last commit: 14x14
maps at 224x224 for 4x the cost), BN, ReLU, 3x3 max pooling with stride 2,
then four stages of basic blocks with 64, 128, 256, 512 planes and strides
1, 2, 2, 2 (METHOD.md section 3).
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
from lficam_tf.layers.feature_importance_network import scaled_fin_width

_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}


def _parts(depth, input_shape, stem_stride, split):
    check_stem_stride(stem_stride)

    def stem(x):
        x = conv_bn(x, 64, 7, stem_stride, "stem", relu=True)
        x = keras.layers.ZeroPadding2D(1, name="stem_pool_pad")(x)
        return keras.layers.MaxPooling2D(3, strides=2, name="stem_pool")(x)

    stages = [
        (planes, blocks, 1 if index == 0 else 2)
        for index, (planes, blocks) in enumerate(
            zip((64, 128, 256, 512), _BLOCKS[depth])
        )
    ]
    return staged_backbone(
        keras.Input(input_shape, name="images"),
        stem,
        stages,
        "basic",
        f"resnet{depth}",
        split,
    )


def resnet(depth, input_shape=(224, 224, 3), weights=None, stem_stride=2):
    """The ImageNet-style ResNet of `depth` as a feature extractor."""
    model = _parts(depth, input_shape, stem_stride, split=False)
    return weights_lib.load_weights(model, weights, f"resnet{depth}")


def resnet_abn(depth, input_shape=(224, 224, 3), weights=None, stem_stride=2):
    """The three parts of an ABN on the ImageNet-style ResNet of `depth`."""
    parts = _parts(depth, input_shape, stem_stride, split=True)
    if weights is not None:
        weights_lib.copy_weights_by_name(
            resnet(depth, input_shape, weights, stem_stride), parts[:2]
        )
    return parts


for _depth, _blocks in _BLOCKS.items():
    register_backbone(
        BackboneSpec(
            name=f"resnet{_depth}",
            build=functools.partial(resnet, _depth),
            build_abn=functools.partial(resnet_abn, _depth),
            channels=512,
            stride=32,
            input_shape=(224, 224, 3),
            preprocessing="imagenet",
            feature_layer=f"stage4_block{_blocks[-1]}_out",
            family="resnet",
            options={"stem_stride": 2},
            description=(
                f"ImageNet-style ResNet-{_depth}; stem_stride=2 (7x7 maps at 224) "
                "or 1 (14x14)"
            ),
            fin_width=scaled_fin_width(512),
        )
    )
