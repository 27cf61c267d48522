"""Evaluate explanations: every metric for every method on every model.

`evaluate(models, images, ...)` -> `Evaluation`; `write_report(...)` writes
`report.json`, `report.md` and plots; `lficam-eval` (`lficam_tf.evaluation.cli`)
does both from `.keras` files and a dataset of `lficam_tf.data.load_data`
(`load_models`, `load_test_images`).
"""

from lficam_tf.api_export import make_lazy_package

# The modules load on first use, so that `lficam-eval --help` starts
# without TensorFlow: {public name: module}.
_LAZY = {
    **dict.fromkeys(
        (
            "METRICS",
            "Evaluation",
            "boxes_from_masks",
            "evaluate",
            "make_predict_fn",
            "merge_evaluations",
            "methods_for",
            "model_kind",
        ),
        "evaluate",
    ),
    **dict.fromkeys(("load_models", "load_test_images"), "inputs"),
    **dict.fromkeys(("plot_curves", "plot_examples", "plot_stability"), "plots"),
    "write_report": "report",
}

__all__ = [
    "METRICS",
    "Evaluation",
    "boxes_from_masks",
    "evaluate",
    "load_models",
    "load_test_images",
    "make_predict_fn",
    "merge_evaluations",
    "methods_for",
    "model_kind",
    "plot_curves",
    "plot_examples",
    "plot_stability",
    "write_report",
]

make_lazy_package(__name__, _LAZY)
