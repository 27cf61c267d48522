"""Pointing game (Zhang et al. 2016) and energy-based pointing game (Score-CAM).

The target region of image i is a boolean mask (B, H, W) or a box
[y_min, x_min, y_max, x_max] in pixel-edge coordinates ("yxyx"): pixel
(row r, column c) covers [r, r + 1) x [c, c + 1) and belongs to the box when
its centre does, y_min <= r + 0.5 <= y_max and x_min <= c + 0.5 <= x_max. So
the box [2, 1, 5, 3] holds rows 2..4 and columns 1..2; a box given with
inclusive integer pixel corners (as in VOC / ImageNet files) needs + 1 on
y_max and x_max.
"""

import numpy as np
from keras import ops

from lficam_tf.api_export import lficam_export
from lficam_tf.metrics import _checks

TIES = ("first", "any", "all")


@lficam_export("lficam_tf.metrics.boxes_to_masks")
def boxes_to_masks(boxes, height, width):
    """Boolean masks of the pixels whose centre lies in each box.

    Pixel (r, c) is inside [y_min, x_min, y_max, x_max] when
    y_min <= r + 0.5 <= y_max and x_min <= c + 0.5 <= x_max, so a box with
    integer corners holds rows y_min..y_max - 1 and columns x_min..x_max - 1.

    Args:
        boxes: float array `(batch_size, 4)`, [y_min, x_min, y_max, x_max] in
            pixels (format "yxyx").
        height: int. Mask height.
        width: int. Mask width.

    Returns:
        bool array `(batch_size, height, width)`.

    Example:

    >>> boxes_to_masks([[1, 0, 3, 2]], 3, 3)[0].astype(int).tolist()
    [[0, 0, 0], [1, 1, 0], [1, 1, 0]]
    """
    height = _checks.check_int(height, "height", minimum=1)
    width = _checks.check_int(width, "width", minimum=1)
    boxes = _checks.check_boxes(boxes)
    rows = np.arange(height) + 0.5
    cols = np.arange(width) + 0.5
    inside_rows = (boxes[:, 0, None] <= rows) & (rows <= boxes[:, 2, None])
    inside_cols = (boxes[:, 1, None] <= cols) & (cols <= boxes[:, 3, None])
    return inside_rows[:, :, None] & inside_cols[:, None, :]


def _target_region(maps_shape, masks, boxes):
    if (masks is None) == (boxes is None):
        raise ValueError(
            "Exactly one of `masks` and `boxes` must be given. Received: "
            f"masks={'None' if masks is None else 'an array'}, "
            f"boxes={'None' if boxes is None else 'an array'}"
        )
    if masks is not None:
        return _checks.check_masks(masks, maps_shape)
    boxes = _checks.check_boxes(boxes, maps_shape[0])
    return boxes_to_masks(boxes, maps_shape[1], maps_shape[2])


def _dilate(region, tolerance):
    """Pixels within Euclidean distance `tolerance` of a pixel of `region`."""
    radius = int(np.floor(tolerance))
    if radius == 0:
        return region
    offsets = np.arange(-radius, radius + 1)
    disk = (offsets[:, None] ** 2 + offsets[None, :] ** 2) <= tolerance**2
    kernel = disk.astype(np.float32)[:, :, None, None]
    counts = ops.conv(region.astype(np.float32)[..., None], kernel, padding="same")
    return ops.convert_to_numpy(counts)[..., 0] > 0.5


@lficam_export("lficam_tf.metrics.pointing_game")
def pointing_game(maps, masks=None, boxes=None, tolerance=15, ties="first"):
    """Pointing game: is the map's maximum on the object? Higher is better.

    A hit for image i when the maximum point of its map lies in the target
    region, or within Euclidean distance `tolerance` pixels of it (Zhang et
    al. use 15 pixels): the region is dilated by a disk of radius
    `tolerance` and the point is looked up in it. The accuracy is
    hits / N. Ties (several pixels equal to the maximum, e.g. a constant or
    all-zero map, where every pixel is a maximum) follow `ties`:

    - `"first"`: the first maximum in raster order (what `np.argmax` takes);
    - `"any"`: a hit if any maximum is in the region;
    - `"all"`: a hit only if every maximum is in the region.

    An empty region (mask with no pixel, or a box with no pixel centre
    inside) is always a miss.

    Args:
        maps: float array `(batch_size, height, width)`.
        masks: bool array `(batch_size, height, width)`, the object's pixels.
            Give exactly one of `masks` and `boxes`. Defaults to `None`.
        boxes: float array `(batch_size, 4)`, [y_min, x_min, y_max, x_max] in
            pixels (module docstring). Defaults to `None`.
        tolerance: number >= 0, in pixels. Defaults to `15`.
        ties: `"first"`, `"any"` or `"all"`. Defaults to `"first"`.

    Returns:
        bool array `(batch_size,)`; `.mean()` is the pointing accuracy.

    Example:

    >>> import numpy as np
    >>> maps = np.zeros((2, 4, 4)); maps[0, 1, 1] = 1.0; maps[1, 3, 3] = 1.0
    >>> pointing_game(maps, boxes=[[0, 0, 2, 2], [0, 0, 2, 2]], tolerance=0).tolist()
    [True, False]

    Reference:
        - [Zhang et al., Top-down Neural Attention by Excitation Backprop,
          ECCV 2016](https://arxiv.org/abs/1608.00507)
    """
    maps = _checks.check_maps(maps)
    region = _target_region(maps.shape, masks, boxes)
    tolerance = _checks.check_number(tolerance, "tolerance")
    if tolerance < 0:
        raise ValueError(
            f"`tolerance` must be >= 0 (pixels). Received: tolerance={tolerance:g}"
        )
    if ties not in TIES:
        raise ValueError(f"`ties` must be one of {TIES}. Received: ties={ties!r}")
    batch, height, width = maps.shape
    if ties == "first":
        # One point per image: look for a region pixel within the distance.
        flat = np.argmax(maps.reshape(batch, -1), axis=1)
        rows, cols = flat // width, flat % width
        distance2 = (np.arange(height)[None, :, None] - rows[:, None, None]) ** 2 + (
            np.arange(width)[None, None, :] - cols[:, None, None]
        ) ** 2
        return np.any(region & (distance2 <= tolerance**2), axis=(1, 2))
    region = _dilate(region, tolerance)
    maxima = maps == maps.max(axis=(1, 2), keepdims=True)
    if ties == "any":
        return np.any(maxima & region, axis=(1, 2))
    return ~np.any(maxima & ~region, axis=(1, 2))


@lficam_export("lficam_tf.metrics.energy_pointing_game")
def energy_pointing_game(maps, masks=None, boxes=None):
    """Energy-based pointing game (Score-CAM): map mass inside the object.

    Proportion_i = sum_{p in region_i} M_i[p] / sum_p M_i[p], the fraction
    of the map's energy that falls in the target region (mask or box).
    Higher is better. An all-zero map has no energy and scores 0 (not NaN);
    an empty region scores 0.

    Args:
        maps: float array `(batch_size, height, width)` with values >= 0.
        masks: bool array `(batch_size, height, width)`. Give exactly one of
            `masks` and `boxes`. Defaults to `None`.
        boxes: float array `(batch_size, 4)`, [y_min, x_min, y_max, x_max] in
            pixels (module docstring). Defaults to `None`.

    Returns:
        float64 array `(batch_size,)` in [0, 1].

    Example:

    >>> import numpy as np
    >>> maps = np.array([[[1.0, 1.0], [2.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    >>> energy_pointing_game(maps, boxes=[[0, 0, 1, 2], [0, 0, 1, 2]]).tolist()
    [0.5, 0.0]

    Reference:
        - [Wang et al., Score-CAM, CVPR-W 2020](https://arxiv.org/abs/1910.01279)
    """
    maps = _checks.check_maps(maps, nonnegative=True)
    region = _target_region(maps.shape, masks, boxes)
    inside = np.sum(maps * region, axis=(1, 2))
    total = np.sum(maps, axis=(1, 2))
    positive = total > 0
    return np.where(positive, inside / np.where(positive, total, 1.0), 0.0)
