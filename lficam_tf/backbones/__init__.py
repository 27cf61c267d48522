"""Backbones: a registry of named feature extractors.

Importing this package registers the CIFAR ResNets, DenseNet-BC and
ResNeXt, the ImageNet-style ResNet-18/34 and the `keras.applications` CNNs.
"""

from lficam_tf.backbones import (  # noqa: F401 (registers)
    applications,
    cifar_densenet,
    cifar_resnet,
    cifar_resnext,
    resnet,
)
from lficam_tf.backbones.preprocessing import PREPROCESSING, preprocessing_layer
from lficam_tf.backbones.registry import (
    BackboneSpec,
    get_backbone_spec,
    list_backbones,
    register_backbone,
)

__all__ = [
    "BackboneSpec",
    "PREPROCESSING",
    "get_backbone_spec",
    "list_backbones",
    "preprocessing_layer",
    "register_backbone",
]
