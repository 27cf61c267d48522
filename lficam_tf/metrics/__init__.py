"""Metrics of visual explanations, batched, with the formula in each docstring.

Maps are float arrays `(batch_size, height, width)` at the image resolution
(what `lficam_tf.explain(...).maps` returns); images are raw RGB in 0..255,
`(batch_size, height, width, 3)`; boxes are `(batch_size, 4)`
[y_min, x_min, y_max, x_max] in pixel-edge coordinates ("yxyx").
`predict_fn` is any callable images -> class probabilities.

| Metric | Function | Better |
| --- | --- | --- |
| Average Drop % | `average_drop`, `confidence_change` | lower |
| Increase in Confidence % | `increase_in_confidence`, `confidence_change` | higher |
| Deletion AUC (RISE) | `deletion_auc` | lower |
| ROAD MoRF (noisy linear imputation) | `road(...).morf_mean` | lower |
| ROAD LeRF | `road(...).lerf_mean` | higher |
| ROAD combined, (LeRF - MoRF) / 2 | `road(...).combined` | higher |
| Insertion AUC (RISE) | `insertion_auc` | higher |
| Pointing game | `pointing_game` | higher |
| Energy-based pointing game | `energy_pointing_game` | higher |
| Box localization (IoU >= 0.5) | `box_localization` | higher |
| Stability across models (IoU) | `stability_iou`, `stability_matrix` | higher |
"""

from lficam_tf.metrics.confidence import (
    ConfidenceChange,
    average_drop,
    average_drop_from_scores,
    confidence_change,
    increase_in_confidence,
    increase_in_confidence_from_scores,
)
from lficam_tf.metrics.deletion_insertion import (
    PerturbationCurves,
    deletion_auc,
    insertion_auc,
)
from lficam_tf.metrics.localization import BoxLocalization, box_localization
from lficam_tf.metrics.pointing import (
    boxes_to_masks,
    energy_pointing_game,
    pointing_game,
)
from lficam_tf.metrics.road import (
    ROADScores,
    noisy_linear_imputation,
    road,
)
from lficam_tf.metrics.stability import (
    StabilityMatrix,
    stability_iou,
    stability_matrix,
)

__all__ = [
    "BoxLocalization",
    "ConfidenceChange",
    "PerturbationCurves",
    "ROADScores",
    "StabilityMatrix",
    "average_drop",
    "average_drop_from_scores",
    "box_localization",
    "boxes_to_masks",
    "confidence_change",
    "deletion_auc",
    "energy_pointing_game",
    "increase_in_confidence",
    "increase_in_confidence_from_scores",
    "insertion_auc",
    "noisy_linear_imputation",
    "pointing_game",
    "road",
    "stability_iou",
    "stability_matrix",
]
