"""Stability of maps across models: IoU of thresholded maps (LFI-CAM's claim).

METHOD.md section 6 item 3: the maps of the same test image from two models
(trained with different hyper-parameters) are resized to the input (done by
`lficam_tf.explain`), scaled to 0..255 and binarised at 100; their IoU,
averaged over the images, measures how much the two models agree on where
the evidence is. The LFI-CAM paper reports ABN vs LFI-CAM average IoU:
Cat&Dog 0.30 vs 0.73, CIFAR-10 0.29 vs 0.60, STL-10 0.32 vs 0.64.

Definitions used here:

- S = 255 * M as a float (no rounding to uint8), for maps M in [0, 1]; the
  maps are *not* re-normalised, as in the authors' code (`att *= 255`).
- Binarisation is strict, S > threshold, as in the authors' `att >
  args.threshold`: a pixel exactly at 100 is background.
- IoU = |A n B| / |A u B| per image; when both masks are empty the two
  maps agree and the IoU is 1.0 (the authors' smoothed ratio
  (0 + 1e-6) / (0 + 1e-6) gives the same).
- Pairing is by image: `maps_a[i]` and `maps_b[i]` must be the maps of the
  same image (explain the same image batch with each model; key saved files
  by image id, never by directory-listing order). Unlike the authors'
  script, which paired files by two unsorted listings and averaged IoU per
  image row, one IoU is computed per image and averaged over images.
"""

import dataclasses

import numpy as np

from lficam_tf.api_export import lficam_export
from lficam_tf.metrics import _checks


@lficam_export("lficam_tf.metrics.StabilityMatrix")
@dataclasses.dataclass(frozen=True)
class StabilityMatrix:
    """Pairwise stability of N models' maps of the same images.

    Attributes:
        per_image: float array `(N, N, batch_size)`, IoU of image b's
            thresholded maps from models i and j.
        matrix: float array `(N, N)`, the mean over images; symmetric, with
            1 on the diagonal. Higher is more stable.
        mean: float, the mean of `matrix` over the N (N - 1) / 2 pairs i < j.
    """

    per_image: np.ndarray
    matrix: np.ndarray
    mean: float


def _check_threshold(threshold):
    threshold = _checks.check_number(threshold, "threshold")
    if not 0 <= threshold <= 255:
        raise ValueError(
            "`threshold` must be in [0, 255] (maps are scaled to 0..255). "
            f"Received: threshold={threshold:g}"
        )
    return threshold


def _binarize(maps, threshold):
    return 255.0 * maps > threshold


def _iou(masks_a, masks_b):
    intersection = np.sum(masks_a & masks_b, axis=(-2, -1))
    union = np.sum(masks_a | masks_b, axis=(-2, -1))
    return np.where(union > 0, intersection / np.maximum(union, 1), 1.0)


@lficam_export("lficam_tf.metrics.stability_iou")
def stability_iou(maps_a, maps_b, threshold=100):
    """IoU of two models' thresholded maps of the same images, per image.

    A = 255 * M_a > threshold, B = 255 * M_b > threshold (strict), IoU =
    |A n B| / |A u B|, and 1.0 when both are empty. Higher is more stable.
    `maps_a[i]` and `maps_b[i]` must be maps of the same image (module
    docstring).

    Args:
        maps_a: float array `(batch_size, height, width)` in [0, 1], from the
            first model.
        maps_b: float array of the same shape, from the second model.
        threshold: number in [0, 255]. Defaults to `100` (the authors').

    Returns:
        float64 array `(batch_size,)` in [0, 1]; `.mean()` is the paper's
        average IoU for the pair.

    Example:

    >>> import numpy as np
    >>> maps_a = np.array([[[1.0, 0.5], [0.2, 0.0]]])  # 255, 127.5, 51, 0
    >>> maps_b = np.array([[[0.4, 0.39], [1.0, 0.0]]])  # 102, 99.45, 255, 0
    >>> stability_iou(maps_a, maps_b).round(4).tolist()
    [0.3333]

    Reference:
        - [Lee et al., LFI-CAM, ICCV 2021](https://arxiv.org/abs/2105.00937)
    """
    maps_a = _checks.check_maps(maps_a, name="maps_a", unit_interval=True)
    maps_b = _checks.check_maps(maps_b, name="maps_b", unit_interval=True)
    if maps_a.shape != maps_b.shape:
        raise ValueError(
            "`maps_a` and `maps_b` must have the same shape (batch_size, height, "
            f"width), one map per image in the same image order. Received: "
            f"shapes {maps_a.shape} and {maps_b.shape}"
        )
    threshold = _check_threshold(threshold)
    return _iou(_binarize(maps_a, threshold), _binarize(maps_b, threshold))


@lficam_export("lficam_tf.metrics.stability_matrix")
def stability_matrix(maps, threshold=100):
    """Pairwise stability of N models: the (N, N) mean IoU matrix and its mean.

    matrix[i, j] = 1 / B * sum_b IoU(255 * M_i[b] > t, 255 * M_j[b] > t),
    with `stability_iou`'s definitions; the diagonal is 1. `mean` is the
    average over the N (N - 1) / 2 pairs i < j, the number the LFI-CAM paper
    reports over 5 models. Higher is more stable.

    Args:
        maps: sequence of N >= 2 float arrays `(batch_size, height, width)`
            in [0, 1], one per model, all maps of the same images in the same
            order.
        threshold: number in [0, 255]. Defaults to `100`.

    Returns:
        A `StabilityMatrix` with `per_image` `(N, N, batch_size)`, `matrix`
        `(N, N)` and `mean`.

    Example:

    >>> import numpy as np
    >>> a = np.array([[[1.0, 1.0], [0.0, 0.0]]])
    >>> b = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    >>> c = np.array([[[0.0, 0.0], [1.0, 1.0]]])
    >>> result = stability_matrix([a, b, c])
    >>> result.matrix.tolist(), result.mean
    ([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]], 0.16666666666666666)

    Reference:
        - [Lee et al., LFI-CAM, ICCV 2021](https://arxiv.org/abs/2105.00937)
    """
    if isinstance(maps, np.ndarray) or not hasattr(maps, "__len__"):
        raise TypeError(
            "`maps` must be a list of N arrays (batch_size, height, width), one "
            f"per model. Received: maps={type(maps).__name__}"
            + (
                f" of shape {maps.shape}; use `list(maps)` for a stacked array"
                if isinstance(maps, np.ndarray)
                else ""
            )
        )
    if len(maps) < 2:
        raise ValueError(
            "`maps` must hold the maps of at least 2 models. Received: "
            f"{len(maps)} model(s)"
        )
    arrays = [
        _checks.check_maps(m, name=f"maps[{i}]", unit_interval=True)
        for i, m in enumerate(maps)
    ]
    for index, array in enumerate(arrays[1:], start=1):
        if array.shape != arrays[0].shape:
            raise ValueError(
                "All maps must have the same shape (batch_size, height, width): "
                f"the same images in the same order. Received: maps[0] with shape "
                f"{arrays[0].shape} and maps[{index}] with shape {array.shape}"
            )
    threshold = _check_threshold(threshold)
    masks = np.stack([_binarize(array, threshold) for array in arrays])
    count = len(arrays)
    per_image = np.ones((count, count, arrays[0].shape[0]), dtype=np.float64)
    for i in range(count):
        for j in range(i + 1, count):
            per_image[i, j] = per_image[j, i] = _iou(masks[i], masks[j])
    matrix = per_image.mean(axis=-1)
    upper = np.triu_indices(count, k=1)
    return StabilityMatrix(
        per_image=per_image, matrix=matrix, mean=float(matrix[upper].mean())
    )
