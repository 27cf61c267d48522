"""Explain predictions: LFI-CAM's and ABN's own maps and ten post-hoc CAM
methods (Grad-CAM, HiResCAM, Grad-CAM element-wise, Grad-CAM++, XGrad-CAM,
LayerCAM, Eigen-CAM, EigenGrad-CAM, Score-CAM, Ablation-CAM), in one
format, with overlays; `explain_files` explains image files as
`lficam-explain` does.

The subpackage itself is callable: `lficam_tf.explain(model, images, ...)`
is `lficam_tf.explain.explain(model, images, ...)`, while
`lficam_tf.explain.GradCAM` etc. stay reachable (binding the function to the
name `lficam_tf.explain` instead would hide the subpackage's attributes).

>>> import numpy as np, lficam_tf
>>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
>>> lficam_tf.explain(model, np.zeros((1, 32, 32, 3))).maps.shape
(1, 32, 32)
"""

from lficam_tf.api_export import make_lazy_package
from lficam_tf.choices import METHODS, NATIVE_METHODS

# The modules load on first use, so that `lficam-explain --help` starts
# without TensorFlow: {public name: module}.
_LAZY = {
    **dict.fromkeys(
        (
            "CAM_METHODS",
            "AblationCAM",
            "BaseCAM",
            "EigenCAM",
            "EigenGradCAM",
            "GradCAM",
            "GradCAMElementWise",
            "GradCAMPlusPlus",
            "HiResCAM",
            "LayerCAM",
            "ScoreCAM",
            "XGradCAM",
            "method_options",
            "vit_reshape_transform",
        ),
        "cams",
    ),
    **dict.fromkeys(
        ("ClassifierScores", "native_method", "scores_model"), "classifier_outputs"
    ),
    **dict.fromkeys(
        ("Explanation", "explain", "explain_with", "get_explainer"), "explanation"
    ),
    "check_images": "images",
    "explain_files": "image_files",
    **dict.fromkeys(("load_model", "model_class_names"), "model_files"),
    **dict.fromkeys(("minmax_normalize", "to_input_resolution"), "maps"),
    **dict.fromkeys(("NativeAttention", "SavedModelAttention"), "native"),
    **dict.fromkeys(("overlay", "plot_explanations", "save_overlay"), "overlay"),
}

__all__ = [
    "CAM_METHODS",
    "METHODS",
    "NATIVE_METHODS",
    "AblationCAM",
    "BaseCAM",
    "ClassifierScores",
    "EigenCAM",
    "EigenGradCAM",
    "Explanation",
    "GradCAM",
    "GradCAMElementWise",
    "GradCAMPlusPlus",
    "HiResCAM",
    "LayerCAM",
    "NativeAttention",
    "SavedModelAttention",
    "ScoreCAM",
    "XGradCAM",
    "check_images",
    "explain",
    "explain_files",
    "explain_with",
    "get_explainer",
    "load_model",
    "method_options",
    "minmax_normalize",
    "model_class_names",
    "native_method",
    "overlay",
    "plot_explanations",
    "save_overlay",
    "scores_model",
    "to_input_resolution",
    "vit_reshape_transform",
]

make_lazy_package(__name__, _LAZY, call_target="explain")
