"""`keras.applications` CNNs as LFI-CAM backbones.

Each entry names the Keras constructor, the layer whose output is the
feature map F (the last convolutional stage, before pooling) and the
preprocessing the constructor's ImageNet weights expect, so that every model
of the package takes RGB in 0..255. Weights: `None`, `"imagenet"` (Keras'
download; offline, a `ConnectionError` that says what to do) or the path of a
weights file for the Keras model with `include_top=False`.
"""

import functools

import keras

from lficam_tf.backbones import weights as weights_lib
from lficam_tf.backbones.registry import BackboneSpec, register_backbone

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


def application_backbone(
    name, constructor, feature_layer, input_shape=(224, 224, 3), weights=None
):
    """Build `keras.applications.<constructor>` up to its feature layer."""
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
            raise weights_lib.mismatch_error(weights, name, error) from error
        raise
    if feature_layer is not None:
        model = keras.Model(
            model.inputs[0], model.get_layer(feature_layer).output, name=model.name
        )
    return model


for _name, (_constructor, _layer, _channels, _stride, _pre) in _APPLICATIONS.items():
    register_backbone(
        BackboneSpec(
            name=_name,
            build=functools.partial(application_backbone, _name, _constructor, _layer),
            channels=_channels,
            stride=_stride,
            input_shape=(224, 224, 3),
            preprocessing=_pre,
            feature_layer=_layer,
            family="applications",
            description=f"keras.applications.{_constructor}",
        )
    )
