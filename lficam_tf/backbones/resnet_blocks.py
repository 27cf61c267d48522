"""Post-activation ResNet blocks and stages, as the LFI-CAM authors build them.

Shared by the CIFAR ResNets and ResNeXt and the ImageNet-style ResNet-18/34
(METHOD.md section 3): convolutions without bias and with the authors' He-normal
(fan-out) init, batch normalisation as in PyTorch (epsilon 1e-5, momentum
0.9), strided convolutions padded symmetrically like PyTorch's `padding=1`
(Keras' 'same' pads stride-2 convolutions on one side only), a 1x1
convolution + BN shortcut wherever the stride or the channel count changes.
"""

import keras

from lficam_tf.initializers import he_normal_fan_out

BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9


def check_stem_stride(stem_stride):
    """Raise a `ValueError` unless `stem_stride` is 1 or 2."""
    if stem_stride not in (1, 2):
        raise ValueError(
            f"`stem_stride` must be 1 or 2. Received: stem_stride={stem_stride!r}"
        )


def conv_bn(x, filters, kernel_size, stride, name, relu, groups=1):
    """Conv (no bias) -> BN [-> ReLU], padded like PyTorch's `k // 2`.

    `groups` splits the convolution into that many groups (ResNeXt).
    """
    padding = kernel_size // 2
    if stride > 1 and padding:
        x = keras.layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)
        conv_padding = "valid"
    else:
        conv_padding = "same"
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=stride,
        padding=conv_padding,
        groups=groups,
        use_bias=False,
        kernel_initializer=he_normal_fan_out(),
        name=f"{name}_conv",
    )(x)
    x = keras.layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=f"{name}_bn"
    )(x)
    if relu:
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


def _shortcut(x, filters, stride, name):
    if stride == 1 and x.shape[-1] == filters:
        return x
    return conv_bn(x, filters, 1, stride, f"{name}_shortcut", relu=False)


def basic_block(x, planes, stride, name):
    """3x3 conv (stride) -> BN -> ReLU -> 3x3 conv -> BN, + shortcut, ReLU."""
    shortcut = _shortcut(x, planes, stride, name)
    y = conv_bn(x, planes, 3, stride, f"{name}_1", relu=True)
    y = conv_bn(y, planes, 3, 1, f"{name}_2", relu=False)
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def bottleneck_block(x, planes, stride, name):
    """1x1 -> 3x3 (stride) -> 1x1 to 4 * planes, each with BN, + shortcut, ReLU."""
    shortcut = _shortcut(x, 4 * planes, stride, name)
    y = conv_bn(x, planes, 1, 1, f"{name}_1", relu=True)
    y = conv_bn(y, planes, 3, stride, f"{name}_2", relu=True)
    y = conv_bn(y, 4 * planes, 1, 1, f"{name}_3", relu=False)
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def resnext_block(x, filters, stride, name, cardinality, widen_factor):
    """ResNeXt type C: 1x1 to D, grouped 3x3 (stride), 1x1 to `filters`, + shortcut.

    D = cardinality * filters / widen_factor (the CIFAR ResNeXt of Xie et al.,
    as the LFI-CAM and ABN authors build it: each conv followed by BN, ReLU
    after the first two and after the addition; a 1x1 conv + BN shortcut
    where the channels change).

    Example:

    >>> import keras
    >>> x = keras.Input((8, 8, 64))
    >>> y = resnext_block(x, 256, 2, "block", cardinality=8, widen_factor=4)
    >>> tuple(y.shape)
    (None, 4, 4, 256)
    """
    width = cardinality * filters // widen_factor
    shortcut = _shortcut(x, filters, stride, name)
    y = conv_bn(x, width, 1, 1, f"{name}_1", relu=True)
    y = conv_bn(y, width, 3, stride, f"{name}_2", relu=True, groups=cardinality)
    y = conv_bn(y, filters, 1, 1, f"{name}_3", relu=False)
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_out")(y)


BLOCKS = {"basic": basic_block, "bottleneck": bottleneck_block}


def resnet_stage(x, block, planes, blocks, stride, name):
    """`blocks` blocks of `planes`; the first carries the stride.

    `block` is a key of `BLOCKS` or a function `block(x, planes, stride, name)`.
    """
    block_fn = BLOCKS[block] if isinstance(block, str) else block
    for index in range(blocks):
        x = block_fn(x, planes, stride if index == 0 else 1, f"{name}_block{index + 1}")
    return x


def staged_backbone(inputs, stem, stages, block, name, split):
    """Assemble a ResNet from its stem and `(planes, blocks, stride)` stages.

    Args:
        inputs: the model's `keras.Input`.
        stem: `stem(inputs) -> tensor`.
        stages: list of `(planes, blocks, stride)`.
        block: `"basic"`, `"bottleneck"` or a block function (see
            `resnet_stage`).
        name: model name.
        split: `False` for one model from images to the last stage's output;
            `True` for the three parts of an Attention Branch Network:
            the extractor (up to the stage before last), the last stage
            (perception branch) and a stride-1 copy of it (attention branch).
    """
    x = stem(inputs)
    for index, (planes, blocks, stride) in enumerate(stages[:-1]):
        x = resnet_stage(x, block, planes, blocks, stride, f"stage{index + 1}")
    last = len(stages)
    planes, blocks, stride = stages[-1]
    if not split:
        x = resnet_stage(x, block, planes, blocks, stride, f"stage{last}")
        return keras.Model(inputs, x, name=name)

    extractor = keras.Model(inputs, x, name=f"{name}_extractor")

    def last_stage(stage_stride, stage_name):
        stage_input = keras.Input(x.shape[1:], name=f"{stage_name}_input")
        y = resnet_stage(
            stage_input, block, planes, blocks, stage_stride, f"stage{last}"
        )
        return keras.Model(stage_input, y, name=stage_name)

    return (
        extractor,
        last_stage(stride, f"{name}_perception_stage"),
        last_stage(1, f"{name}_attention_stage"),
    )
