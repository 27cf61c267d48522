"""lficam_tf: CNN classifiers that explain themselves (LFI-CAM) in Keras.

>>> import lficam_tf
>>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
>>> sorted(model.output)
['attention', 'importance', 'logits']

The model code (layers, backbones, models) is `keras.ops` only and imports no
TensorFlow. The subpackages that need TensorFlow load on first use:
`lficam_tf.data`, `lficam_tf.training` (and `lficam_tf.train(...)`),
`lficam_tf.explain(...)`, `lficam_tf.metrics`, `lficam_tf.evaluation`,
`lficam_tf.export(...)`.
"""

import importlib

from lficam_tf import backbones, graph, layers, models, ops, optimizers
from lficam_tf.backbones import get_backbone_spec, list_backbones
from lficam_tf.models import (
    ABNClassifier,
    BaselineClassifier,
    LFICAMClassifier,
    build_model,
)

__version__ = "0.1.0"

_LAZY_SUBPACKAGES = ("data", "evaluation", "explain", "export", "metrics", "training")

__all__ = [
    "ABNClassifier",
    "BaselineClassifier",
    "LFICAMClassifier",
    "backbones",
    "build_model",
    "get_backbone_spec",
    "graph",
    "layers",
    "list_backbones",
    "models",
    "ops",
    "optimizers",
    "train",
    *_LAZY_SUBPACKAGES,
]


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f"lficam_tf.{name}")
    if name == "train":
        return importlib.import_module("lficam_tf.training").train
    raise AttributeError(f"module 'lficam_tf' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
