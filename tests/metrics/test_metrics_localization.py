"""Box localization: connected components, keras-cv IoU, hand-computed cases."""

from collections import deque

import numpy as np
import pytest

from lficam_tf import metrics
from lficam_tf.metrics import localization


def _numpy_iou(a, b):
    inter_h = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter_w = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = inter_h * inter_w
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _bfs_largest_box(binary, connectivity):
    """Flood fill from each unvisited pixel in raster order; keep the largest."""
    height, width = binary.shape
    if connectivity == 8:
        steps = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc]
    else:
        steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    seen = np.zeros_like(binary, dtype=bool)
    best = None
    for r in range(height):
        for c in range(width):
            if not binary[r, c] or seen[r, c]:
                continue
            queue, pixels = deque([(r, c)]), []
            seen[r, c] = True
            while queue:
                pr, pc = queue.popleft()
                pixels.append((pr, pc))
                for dr, dc in steps:
                    nr, nc = pr + dr, pc + dc
                    if (
                        0 <= nr < height
                        and 0 <= nc < width
                        and binary[nr, nc]
                        and not seen[nr, nc]
                    ):
                        seen[nr, nc] = True
                        queue.append((nr, nc))
            if best is None or len(pixels) > best[1]:
                rows, cols = zip(*pixels)
                best = (
                    [min(rows), min(cols), max(rows) + 1, max(cols) + 1],
                    len(pixels),
                )
    return best


def test_keras_cv_iou_equals_numpy_iou():
    boxes_a = np.array(
        [
            [0, 0, 10, 10],
            [0, 0, 10, 10],
            [2, 2, 4, 4],
            [0, 0, 2, 2],
            [1.5, 0.5, 7.25, 3.0],
            [0, 0, 2, 2],
        ],
        dtype=float,
    )
    boxes_b = np.array(
        [
            [5, 5, 15, 15],
            [0, 0, 10, 10],
            [0, 0, 10, 10],
            [2, 0, 4, 2],
            [0.0, 1.0, 5.5, 9.0],
            [0, 0, 2, 4],
        ],
        dtype=float,
    )
    expected = [_numpy_iou(a, b) for a, b in zip(boxes_a, boxes_b)]
    np.testing.assert_allclose(expected, [25 / 175, 1.0, 0.04, 0.0, expected[4], 0.5])
    np.testing.assert_allclose(
        localization._compute_iou(boxes_a, boxes_b), expected, rtol=1e-6
    )


def test_components_by_hand():
    binary = np.array(
        [
            [1, 0, 0, 0, 0],
            [0, 1, 0, 1, 1],
            [0, 0, 0, 1, 0],
        ],
        dtype=bool,
    )
    # 8-connectivity: the diagonal pair is one region of 2, the right one has 3.
    box, size = localization._largest_component_box(binary, 8)
    assert (box.tolist(), size) == ([1.0, 3.0, 3.0, 5.0], 3)
    # With the right region cut to 2 pixels, the two regions tie: the first
    # in raster order (the one holding (0, 0)) wins under 8-connectivity.
    binary[1, 4] = False
    box, size = localization._largest_component_box(binary, 8)
    assert (box.tolist(), size) == ([0.0, 0.0, 2.0, 2.0], 2)
    # Under 4-connectivity the diagonal pair splits: (1, 3)-(2, 3) wins.
    box, size = localization._largest_component_box(binary, 4)
    assert (box.tolist(), size) == ([1.0, 3.0, 3.0, 4.0], 2)
    assert localization._largest_component_box(np.zeros((3, 3), bool), 8) is None


def test_u_shape_merges_runs_met_separately():
    binary = np.array(
        [
            [1, 0, 0, 1, 0, 0, 0],
            [1, 0, 0, 1, 0, 1, 1],
            [1, 1, 1, 1, 0, 1, 1],
        ],
        dtype=bool,
    )
    box, size = localization._largest_component_box(binary, 4)
    assert (box.tolist(), size) == ([0.0, 0.0, 3.0, 4.0], 8)


@pytest.mark.parametrize("connectivity", [4, 8])
def test_components_match_breadth_first_search(connectivity):
    rng = np.random.default_rng(connectivity)
    for density in (0.3, 0.5, 0.7):
        for _ in range(15):
            binary = rng.uniform(0, 1, (9, 12)) < density
            ours = localization._largest_component_box(binary, connectivity)
            box, size = _bfs_largest_box(binary, connectivity)
            assert ours[0].tolist() == box and ours[1] == size


def test_box_localization_by_hand():
    maps = np.zeros((3, 6, 6))
    maps[0, 1:3, 1:4] = 1.0  # region rows 1-2, cols 1-3: box [1, 1, 3, 4]
    maps[0, 5, 5] = 0.9  # a smaller region
    maps[1] = 0.5  # a floor of 0.5: min-max normalisation removes it
    maps[1, 4:6, 0:2] = 0.6
    maps[2, 0:2, 0:1] = 1.0  # box [0, 0, 2, 1]: IoU with [0, 0, 2, 2] = 0.5
    true_boxes = [[1, 1, 3, 3], [4, 0, 6, 2], [0, 0, 2, 2]]
    result = metrics.box_localization(maps, true_boxes)
    np.testing.assert_array_equal(
        result.boxes, [[1, 1, 3, 4], [4, 0, 6, 2], [0, 0, 2, 1]]
    )
    np.testing.assert_array_equal(result.found, [True, True, True])
    np.testing.assert_allclose(result.iou, [4 / 6, 1.0, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(result.hit, [True, True, True])  # IoU 0.5 counts
    assert result.accuracy == 1.0
    strict = metrics.box_localization(maps, true_boxes, iou_threshold=0.7)
    np.testing.assert_array_equal(strict.hit, [False, True, False])


def test_threshold_is_strict_and_relative_to_the_range():
    maps = np.array([[[0.2, 0.4, 1.0, 0.0]]])  # (M - 0) / 1; row of 4 pixels
    low = metrics.box_localization(maps, [[0, 0, 1, 4]], threshold=0.15)
    np.testing.assert_array_equal(low.boxes, [[0, 0, 1, 3]])  # 0.2, 0.4, 1.0
    edge = metrics.box_localization(maps, [[0, 0, 1, 4]], threshold=0.4)
    np.testing.assert_array_equal(edge.boxes, [[0, 2, 1, 3]])  # 0.4 is not > 0.4


def test_constant_and_all_zero_maps_give_no_box():
    maps = np.stack([np.zeros((4, 4)), np.full((4, 4), 0.7)])
    result = metrics.box_localization(maps, [[0, 0, 4, 4]] * 2, threshold=0.0)
    np.testing.assert_array_equal(result.found, [False, False])
    np.testing.assert_array_equal(result.boxes, np.zeros((2, 4)))
    np.testing.assert_array_equal(result.iou, [0.0, 0.0])
    np.testing.assert_array_equal(result.hit, [False, False])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"threshold": 1.0},
            ValueError,
            r"`threshold` must be in \[0, 1\) \(a fraction of the map's range\). Received: threshold=1",
        ),
        ({"threshold": -0.1}, ValueError, r"`threshold` must be in \[0, 1\)"),
        (
            {"iou_threshold": 1.5},
            ValueError,
            r"`iou_threshold` must be in \[0, 1\]. Received: iou_threshold=1.5",
        ),
        (
            {"connectivity": 6},
            ValueError,
            r"`connectivity` must be 4 or 8. Received: connectivity=6",
        ),
        (
            {"boxes": [[0, 0, 1]]},
            ValueError,
            r"`boxes` must have shape \(batch_size, 4\) = \(1, 4\)",
        ),
        ({"maps": np.zeros((1, 2, 2, 1))}, ValueError, r"maps\[\.\.\., 0\]"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    arguments = {"maps": np.zeros((1, 2, 2)), "boxes": [[0, 0, 1, 1]]}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        metrics.box_localization(**arguments)
