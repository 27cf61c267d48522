"""Evaluate explanations: every metric for every method on every model.

`evaluate(models, images, ...)` -> `Evaluation`; `write_report(...)` writes
`report.json`, `report.md` and plots; `lficam-eval` (`lficam_tf.evaluation.cli`)
does both from `.keras` files and a dataset of `lficam_tf.data.load_data`.
"""

from lficam_tf.evaluation.evaluate import (
    METRICS,
    Evaluation,
    boxes_from_masks,
    evaluate,
    make_predict_fn,
    methods_for,
    model_kind,
)
from lficam_tf.evaluation.plots import plot_curves, plot_examples, plot_stability
from lficam_tf.evaluation.report import write_report

__all__ = [
    "METRICS",
    "Evaluation",
    "boxes_from_masks",
    "evaluate",
    "make_predict_fn",
    "methods_for",
    "model_kind",
    "plot_curves",
    "plot_examples",
    "plot_stability",
    "write_report",
]
