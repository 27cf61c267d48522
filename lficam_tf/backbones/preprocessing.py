"""Preprocessing presets: every model of the package takes RGB in 0..255.

Each preset is a per-channel mean and standard deviation in 0..255 units
(applied by a `keras.layers.Normalization`), and whether the backbone expects
BGR. They reproduce `keras.applications.imagenet_utils.preprocess_input`'s
modes and the CIFAR normalisation of METHOD.md section 5.
"""

import keras

from lficam_tf.layers.reverse_channels import ReverseChannels

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
_CIFAR_STD = (0.2023, 0.1994, 0.2010)

#: name -> (mean, std, bgr), mean and std in 0..255 units.
PREPROCESSING = {
    # keras.applications "caffe" mode: BGR, ImageNet mean subtracted, no scaling.
    # The mean is in BGR order, as keras.applications gives it.
    "caffe": ((103.939, 116.779, 123.68), (1.0, 1.0, 1.0), True),
    # keras.applications "tf" mode: scale to [-1, 1].
    "tf": ((127.5,) * 3, (127.5,) * 3, False),
    # keras.applications "torch" mode and torchvision: ImageNet mean and std.
    "imagenet": (
        tuple(255 * m for m in _IMAGENET_MEAN),
        tuple(255 * s for s in _IMAGENET_STD),
        False,
    ),
    # The LFI-CAM authors' CIFAR (and STL-10) normalisation.
    "cifar": (
        tuple(255 * m for m in _CIFAR_MEAN),
        tuple(255 * s for s in _CIFAR_STD),
        False,
    ),
}


def preprocessing_layer(preset):
    """A layer mapping RGB 0..255 to what a backbone expects, or `None`.

    Args:
        preset: a key of `PREPROCESSING`, or `None` for no preprocessing.
    """
    if preset is None:
        return None
    if preset not in PREPROCESSING:
        raise ValueError(
            f"`preprocessing` must be one of {sorted(PREPROCESSING)}, None, or "
            f"'auto' (the backbone's own). Received: preprocessing={preset!r}"
        )
    mean, std, bgr = PREPROCESSING[preset]
    layers = [ReverseChannels(name="rgb_to_bgr")] if bgr else []
    layers.append(
        keras.layers.Normalization(
            mean=list(mean), variance=[s * s for s in std], name="normalize"
        )
    )
    return keras.Sequential(layers, name=f"preprocessing_{preset}")
