"""Box localization from a map: threshold, largest connected region, IoU.

The protocol of CAM (Zhou et al. 2016) and Grad-CAM (Selvaraju et al. 2017)
weakly-supervised localization: the map is min-max normalised per image,
binarised at a fraction `threshold` of its range (Grad-CAM's 15 % by
default; CAM used 20 %), the largest connected region of the foreground is
boxed, and the box counts as correct when its IoU with the true box is at
least 0.5.

Connected components are labelled here with a run-length union-find
(scipy is not a dependency of lficam_tf): each row's runs of foreground
pixels are joined to the touching runs of the previous row, with
8-connectivity by default (diagonal neighbours join, as in the contours
OpenCV's `findContours` traces for CAM) or 4-connectivity. The IoU is
keras-cv's `keras_cv.bounding_box.compute_iou` (format "yxyx").

Boxes are in pixel-edge coordinates [y_min, x_min, y_max, x_max]: pixel
(r, c) covers [r, r + 1) x [c, c + 1), so a region of rows 2..4 and columns
1..2 has the box [2, 1, 5, 3] and area 3 * 2 = 6 (its pixel count when it
fills the box). Boxes with inclusive integer corners (VOC / ImageNet files)
need + 1 on y_max and x_max.
"""

import dataclasses

import numpy as np

from lficam_tf.api_export import lficam_export
from lficam_tf.metrics import _checks


@lficam_export("lficam_tf.metrics.BoxLocalization")
@dataclasses.dataclass(frozen=True)
class BoxLocalization:
    """Predicted boxes, their IoU with the true boxes, and the hits.

    Attributes:
        boxes: float array `(batch_size, 4)`, the predicted box
            [y_min, x_min, y_max, x_max] (pixel edges); [0, 0, 0, 0] where
            `found` is False.
        found: bool array `(batch_size,)`, False where the binarised map is
            empty (a constant map, all-zero included).
        iou: float array `(batch_size,)`, IoU with the true box (0 where not
            found). Higher is better.
        hit: bool array `(batch_size,)`, iou >= `iou_threshold`.
    """

    boxes: np.ndarray
    found: np.ndarray
    iou: np.ndarray
    hit: np.ndarray

    @property
    def accuracy(self):
        """Localization accuracy: the fraction of hits. Higher is better."""
        return float(np.mean(self.hit))


def _find(parent, index):
    while parent[index] != index:
        parent[index] = parent[parent[index]]
        index = parent[index]
    return index


def _union(parent, a, b):
    root_a, root_b = _find(parent, a), _find(parent, b)
    if root_a != root_b:
        # The smaller run index, i.e. the earlier run in raster order, is root.
        parent[max(root_a, root_b)] = min(root_a, root_b)


def _largest_component_box(binary, connectivity=8):
    """Box of the largest connected region of a 2-D bool array, or None.

    Returns `(box, size)` with box = [row_min, col_min, row_max + 1,
    col_max + 1] and size the region's pixel count. Among regions of equal
    size, the one whose first pixel comes first in raster order wins.
    """
    # 8-connectivity: runs [s, e) and [ps, pe) of adjacent rows touch when
    # ps <= e and s <= pe; 4-connectivity: when ps < e and s < pe.
    slack = 1 if connectivity == 8 else 0
    binary = np.asarray(binary, dtype=np.int8)
    padded = np.pad(binary, ((0, 0), (1, 1)))
    edges = np.diff(padded, axis=1)
    # Runs in raster order: their starts and ends pair up row by row.
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    parent = list(range(len(rows)))
    row_first = np.searchsorted(rows, np.arange(binary.shape[0] + 1)).tolist()
    starts_list, ends_list = starts.tolist(), ends.tolist()
    for row in range(1, binary.shape[0]):
        pointer, previous_end = row_first[row - 1], row_first[row]
        for index in range(row_first[row], row_first[row + 1]):
            start, end = starts_list[index], ends_list[index]
            # Runs of the previous row that end before this one can touch it
            # cannot touch the later runs of this row either.
            while pointer < previous_end and ends_list[pointer] + slack <= start:
                pointer += 1
            other = pointer
            while other < previous_end and starts_list[other] < end + slack:
                _union(parent, index, other)
                other += 1
    if not parent:
        return None
    roots = np.array([_find(parent, index) for index in range(len(parent))])
    sizes = np.bincount(roots, weights=ends - starts, minlength=len(parent))
    best = int(np.argmax(sizes))  # Ties: the smallest root, first in raster order.
    member = roots == best
    box = [
        rows[member].min(),
        starts[member].min(),
        rows[member].max() + 1,
        ends[member].max(),
    ]
    return np.array(box, dtype=np.float64), int(sizes[best])


def _binarize_maps(maps, threshold):
    """Min-max normalise each map and keep the pixels strictly above `threshold`.

    (M - min M) > threshold * (max M - min M), per image: with threshold in
    [0, 1) the maximum is always kept, except in a constant map (all-zero
    included), which gives an empty mask.
    """
    minimum = maps.min(axis=(1, 2), keepdims=True)
    maximum = maps.max(axis=(1, 2), keepdims=True)
    return ((maps - minimum) > threshold * (maximum - minimum)) & (maximum > minimum)


def _compute_iou(boxes_a, boxes_b):
    """Per-row IoU of two (B, 4) "yxyx" box arrays with keras-cv, as float64.

    keras-cv divides by union + 1e-7 (its epsilon), so values match the exact
    IoU to float32 precision.
    """
    from keras import ops
    from keras_cv import bounding_box

    iou = bounding_box.compute_iou(
        np.asarray(boxes_a, dtype=np.float32)[:, None, :],
        np.asarray(boxes_b, dtype=np.float32)[:, None, :],
        bounding_box_format="yxyx",
    )
    return np.asarray(ops.convert_to_numpy(iou), dtype=np.float64)[:, 0, 0]


@lficam_export("lficam_tf.metrics.box_localization")
def box_localization(maps, boxes, threshold=0.15, iou_threshold=0.5, connectivity=8):
    """Box localization: map -> threshold -> largest region's box -> IoU.

    Per image: M' = (M - min M) / (max M - min M); foreground = M' >
    `threshold` (strict); the bounding box B of its largest connected region
    (pixel count; ties to the region met first in raster order); IoU(B, G)
    = |B n G| / |B u G| with the true box G (keras-cv's `compute_iou`);
    hit = IoU >= `iou_threshold`. Higher IoU and accuracy are better. A
    constant map (all-zero included) has no foreground: no box, IoU 0, miss.

    Args:
        maps: float array `(batch_size, height, width)`.
        boxes: float array `(batch_size, 4)`, true boxes [y_min, x_min,
            y_max, x_max] in pixel-edge coordinates (module docstring).
        threshold: float in [0, 1). Fraction of the map's range. Defaults to
            `0.15` (Grad-CAM).
        iou_threshold: float in [0, 1]. Defaults to `0.5`.
        connectivity: `8` (diagonal neighbours join) or `4`. Defaults to `8`.

    Returns:
        A `BoxLocalization` with per-image `boxes` `(batch_size, 4)`, `found`,
        `iou` and `hit` `(batch_size,)` and the aggregate `accuracy`.

    Example:

    >>> import numpy as np
    >>> maps = np.zeros((1, 6, 6)); maps[0, 1:3, 1:4] = 1.0; maps[0, 5, 5] = 0.9
    >>> result = box_localization(maps, boxes=[[1, 1, 3, 3]])
    >>> result.boxes.tolist(), result.iou.round(4).tolist(), result.hit.tolist()
    ([[1.0, 1.0, 3.0, 4.0]], [0.6667], [True])

    Reference:
        - [Zhou et al., CAM, CVPR 2016](https://arxiv.org/abs/1512.04150)
        - [Selvaraju et al., Grad-CAM, ICCV 2017](https://arxiv.org/abs/1610.02391)
    """
    maps = _checks.check_maps(maps)
    true_boxes = _checks.check_boxes(boxes, maps.shape[0])
    threshold = _checks.check_number(threshold, "threshold")
    if not 0 <= threshold < 1:
        raise ValueError(
            "`threshold` must be in [0, 1) (a fraction of the map's range). "
            f"Received: threshold={threshold:g}"
        )
    iou_threshold = _checks.check_number(iou_threshold, "iou_threshold")
    if not 0 <= iou_threshold <= 1:
        raise ValueError(
            f"`iou_threshold` must be in [0, 1]. Received: iou_threshold={iou_threshold:g}"
        )
    if connectivity not in (4, 8) or isinstance(connectivity, bool):
        raise ValueError(
            f"`connectivity` must be 4 or 8. Received: connectivity={connectivity!r}"
        )
    foreground = _binarize_maps(maps, threshold)
    predicted = np.zeros((len(maps), 4), dtype=np.float64)
    found = np.zeros((len(maps),), dtype=bool)
    for index, mask in enumerate(foreground):
        component = _largest_component_box(mask, connectivity)
        if component is not None:
            predicted[index], found[index] = component[0], True
    iou = np.where(found, _compute_iou(predicted, true_boxes), 0.0)
    return BoxLocalization(
        boxes=predicted, found=found, iou=iou, hit=iou >= iou_threshold
    )
