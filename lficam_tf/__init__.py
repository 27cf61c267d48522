"""lficam_tf: CNN classifiers that explain themselves (LFI-CAM) in Keras.

>>> import lficam_tf
>>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
>>> out = model(images)   # doctest: +SKIP
>>> out["logits"], out["attention"], out["importance"]   # doctest: +SKIP
"""

from lficam_tf import backbones, graph, layers, models, ops
from lficam_tf.backbones import get_backbone_spec, list_backbones
from lficam_tf.models import (
    ABNClassifier,
    BaselineClassifier,
    LFICAMClassifier,
    build_model,
)

__version__ = "0.1.0"

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
]
