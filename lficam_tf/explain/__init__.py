"""Explain predictions: LFI-CAM's and ABN's own maps, Grad-CAM, Grad-CAM++,
Score-CAM, in one format, with overlays.

The subpackage itself is callable: `lficam_tf.explain(model, images, ...)`
is `lficam_tf.explain.explain(model, images, ...)`, while
`lficam_tf.explain.GradCAM` etc. stay reachable (binding the function to the
name `lficam_tf.explain` instead would hide the subpackage's attributes).

>>> import numpy as np, lficam_tf
>>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
>>> lficam_tf.explain(model, np.zeros((1, 32, 32, 3))).maps.shape
(1, 32, 32)
"""

from lficam_tf.api_export import make_module_callable
from lficam_tf.explain.cams import (
    CAM_METHODS,
    BaseCAM,
    GradCAM,
    GradCAMPlusPlus,
    ScoreCAM,
)
from lficam_tf.explain.classifier_outputs import (
    ClassifierScores,
    native_method,
    scores_model,
)
from lficam_tf.explain.explanation import (
    METHODS,
    NATIVE_METHODS,
    Explanation,
    explain,
    explain_with,
    get_explainer,
)
from lficam_tf.explain.maps import minmax_normalize, to_input_resolution
from lficam_tf.explain.native import NativeAttention, SavedModelAttention
from lficam_tf.explain.overlay import overlay, plot_explanations, save_overlay

__all__ = [
    "CAM_METHODS",
    "METHODS",
    "NATIVE_METHODS",
    "BaseCAM",
    "ClassifierScores",
    "Explanation",
    "GradCAM",
    "GradCAMPlusPlus",
    "NativeAttention",
    "SavedModelAttention",
    "ScoreCAM",
    "explain",
    "explain_with",
    "get_explainer",
    "minmax_normalize",
    "native_method",
    "overlay",
    "plot_explanations",
    "save_overlay",
    "scores_model",
    "to_input_resolution",
]


make_module_callable(__name__, explain)
