"""`keras.applications` CNNs as LFI-CAM backbones.

Each entry names the Keras constructor, the layer whose output is the
feature map F (the last convolutional stage, before pooling) and the
preprocessing the constructor's ImageNet weights expect, so that every model
of the package takes RGB in 0..255. Weights: `None`, `"imagenet"` (Keras'
download; offline, a `ConnectionError` that says what to do) or the path of a
weights file for the Keras model with `include_top=False`.

The ResNets (v1 and v2) take `stem_stride=1`, the stem of the LFI-CAM
authors' last commit (METHOD.md section 3): the 7x7 `conv1_conv` with stride
1, so 14x14 maps at 224x224 for about 4x the cost. The model is built (and
its weights loaded) as Keras makes it, then cloned with that one stride
changed; strides do not change weight shapes, so every weight carries over.

ResNet-50/101/152 (v1) also support the Attention Branch Network, as in the
ABN authors' ImageNet model (METHOD.md section 4): the extractor ends at the
fourth stage's output (`conv4_block<n>_out`), the perception stage is the
fifth stage with the loaded weights, and the attention stage is a copy of the
fifth stage with stride 1, built fresh: it starts from Keras' random
initialisation even with `weights="imagenet"`, as the ABN authors' attention
branch does (their pretrained checkpoints have no attention branch).
"""

import functools

import keras

from lficam_tf.backbones import weights as weights_lib
from lficam_tf.backbones.registry import BackboneSpec, register_backbone
from lficam_tf.backbones.resnet_blocks import BN_MOMENTUM, check_stem_stride
from lficam_tf.checks import weights_mismatch_error
from lficam_tf.layers.feature_importance_network import scaled_fin_width

# name: (constructor, feature layer or None for the output, channels, stride,
#        preprocessing preset or None where the Keras model normalises itself)
_APPLICATIONS = {
    "resnet50": ("ResNet50", "conv5_block3_out", 2048, 32, "caffe"),
    "resnet101": ("ResNet101", "conv5_block3_out", 2048, 32, "caffe"),
    "resnet152": ("ResNet152", "conv5_block3_out", 2048, 32, "caffe"),
    "resnet50v2": ("ResNet50V2", "post_relu", 2048, 32, "tf"),
    "resnet101v2": ("ResNet101V2", "post_relu", 2048, 32, "tf"),
    "densenet121": ("DenseNet121", "relu", 1024, 32, "imagenet"),
    "densenet169": ("DenseNet169", "relu", 1664, 32, "imagenet"),
    "efficientnetb0": ("EfficientNetB0", "top_activation", 1280, 32, None),
    "efficientnetv2b0": ("EfficientNetV2B0", "top_activation", 1280, 32, None),
    "mobilenetv2": ("MobileNetV2", "out_relu", 1280, 32, "tf"),
    "convnext_tiny": ("ConvNeXtTiny", None, 768, 32, None),
    # VGG's features before the last max pooling, as Grad-CAM uses them.
    "vgg16": ("VGG16", "block5_conv3", 512, 16, "caffe"),
    "vgg19": ("VGG19", "block5_conv4", 512, 16, "caffe"),
}

# Backbones with a `stem_stride` option: their stem convolution is `conv1_conv`.
_STEM_STRIDE = ("resnet50", "resnet101", "resnet152", "resnet50v2", "resnet101v2")

# ABN: the layer that ends the extractor (the output of the stage before last).
_ABN_SPLIT = {
    "resnet50": "conv4_block6_out",
    "resnet101": "conv4_block23_out",
    "resnet152": "conv4_block36_out",
}


def _with_strides_one(layer):
    """A new, unbuilt copy of `layer` with every stride set to 1."""
    config = layer.get_config()
    if "strides" in config:
        config["strides"] = (1,) * len(config["strides"])
    return layer.__class__.from_config(config)


def _copy_of(layer):
    """A new, unbuilt copy of `layer` (`keras.models.clone_model`'s default)."""
    return layer.__class__.from_config(layer.get_config())


def _with_stem_stride_one(model):
    """A copy of `model`, weights included, with `conv1_conv`'s stride 1."""
    clone = keras.models.clone_model(
        model,
        clone_function=lambda layer: (
            _with_strides_one(layer) if layer.name == "conv1_conv" else _copy_of(layer)
        ),
    )
    clone.set_weights(model.get_weights())
    return clone


def application_backbone(
    name,
    constructor,
    feature_layer,
    input_shape=(224, 224, 3),
    weights=None,
    stem_stride=2,
):
    """Build `keras.applications.<constructor>` up to its feature layer.

    `stem_stride=1` (ResNets only) sets the stem convolution's stride to 1.
    """
    check_stem_stride(stem_stride)
    if weights not in (None, "imagenet"):
        weights_lib.check_weights_file(weights, name)
    try:
        model = getattr(keras.applications, constructor)(
            include_top=False, weights=weights, input_shape=tuple(input_shape)
        )
    except Exception as error:  # Keras raises a bare Exception on a failed fetch.
        if weights == "imagenet" and "URL fetch failure" in str(error):
            raise ConnectionError(
                f"Could not download the ImageNet weights of {name!r}: this "
                "machine seems to be offline. On a machine with internet, run "
                f"`keras.applications.{constructor}(include_top=False, "
                "weights='imagenet')` once (it fills ~/.keras/models, which "
                "you can copy here), or pass weights=<path to a weights file>, "
                "or weights=None to train from scratch."
            ) from error
        if weights not in (None, "imagenet") and isinstance(
            error, (ValueError, KeyError)
        ):
            raise weights_mismatch_error(weights, name, error) from error
        raise
    if weights is None:
        _from_scratch_bn_momentum(model)
    if stem_stride == 1:
        model = _with_stem_stride_one(model)
    if feature_layer is not None:
        model = keras.Model(
            model.inputs[0], model.get_layer(feature_layer).output, name=model.name
        )
    return model


def _from_scratch_bn_momentum(model):
    """Batch norms of a model trained from scratch average like ours.

    Keras builds MobileNetV2's batch norms with momentum 0.999 (EfficientNet,
    ResNet, DenseNet: 0.99), made for the statistics of ImageNet weights
    fine-tuned for long: from random weights the moving statistics stay near
    their initial values for thousands of steps, and a short run evaluates
    at chance (a MobileNetV2 on shapes: training accuracy 0.79, test 0.17,
    after 250 steps). From scratch they take `BN_MOMENTUM` (0.9, PyTorch's
    and our own backbones'); with loaded weights Keras' own stay.
    """
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = BN_MOMENTUM


def _stage(stage, name, clone_function):
    """`stage` (a slice of a bigger model) as a model with its own input."""
    inputs = keras.Input(stage.input_shape[1:], name=f"{name}_input")
    clone = keras.models.clone_model(
        stage, input_tensors=inputs, clone_function=clone_function
    )
    return keras.Model(inputs, clone.outputs[0], name=name)


def application_abn(
    name,
    constructor,
    feature_layer,
    split_layer,
    input_shape=(224, 224, 3),
    weights=None,
    stem_stride=2,
):
    """The three parts of an ABN on a `keras.applications` ResNet (v1).

    The extractor (images to `split_layer`'s output) and the perception
    stage (the last stage) carry the loaded weights; the attention stage is
    a stride-1 copy of the last stage with new, randomly initialised layers.
    """
    model = application_backbone(
        name, constructor, feature_layer, input_shape, weights, stem_stride
    )
    split = model.get_layer(split_layer).output
    extractor = keras.Model(model.inputs[0], split, name=f"{name}_extractor")
    last_stage = keras.Model(split, model.output)
    perception = _stage(last_stage, f"{name}_perception_stage", _copy_of)
    perception.set_weights(last_stage.get_weights())
    attention = _stage(last_stage, f"{name}_attention_stage", _with_strides_one)
    return extractor, perception, attention


for _name, (_constructor, _layer, _channels, _stride, _pre) in _APPLICATIONS.items():
    _description = f"keras.applications.{_constructor}"
    if _name in _STEM_STRIDE:
        _description += "; stem_stride=1 gives 14x14 maps at 224"
    register_backbone(
        BackboneSpec(
            name=_name,
            build=functools.partial(application_backbone, _name, _constructor, _layer),
            build_abn=functools.partial(
                application_abn, _name, _constructor, _layer, _ABN_SPLIT[_name]
            )
            if _name in _ABN_SPLIT
            else None,
            channels=_channels,
            stride=_stride,
            input_shape=(224, 224, 3),
            preprocessing=_pre,
            feature_layer=_layer,
            family="applications",
            options={"stem_stride": 2} if _name in _STEM_STRIDE else {},
            description=_description,
            fin_width=scaled_fin_width(_channels),
        )
    )
