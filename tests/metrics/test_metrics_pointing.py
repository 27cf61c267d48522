"""Pointing game and energy-based pointing game, against hand-computed cases."""

import numpy as np
import pytest

from lficam_tf import metrics


def _point_map(height, width, row, col, batch=1):
    maps = np.zeros((batch, height, width))
    maps[:, row, col] = 1.0
    return maps


def _brute_force_hit(point, mask, tolerance):
    """Hit if some mask pixel lies within `tolerance` of the point."""
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return False
    return bool(np.min((rows - point[0]) ** 2 + (cols - point[1]) ** 2) <= tolerance**2)


def test_boxes_to_masks_uses_pixel_centres():
    masks = metrics.boxes_to_masks(
        [[1, 0, 3, 2], [0.4, 0.5, 1.5, 1.5], [1, 1, 1, 3]], 3, 3
    )
    np.testing.assert_array_equal(
        masks.astype(int),
        [
            [[0, 0, 0], [1, 1, 0], [1, 1, 0]],
            # centres 0.5 and 1.5 lie on the closed box edges: rows 0-1, cols 0-1
            [[1, 1, 0], [1, 1, 0], [0, 0, 0]],
            # zero height, no centre inside
            [[0, 0, 0], [0, 0, 0], [0, 0, 0]],
        ],
    )


def test_hits_and_misses_without_tolerance():
    maps = np.concatenate([_point_map(4, 4, 1, 1), _point_map(4, 4, 2, 2)])
    boxes = [[0, 0, 2, 2], [0, 0, 2, 2]]
    np.testing.assert_array_equal(
        metrics.pointing_game(maps, boxes=boxes, tolerance=0), [True, False]
    )
    masks = metrics.boxes_to_masks(boxes, 4, 4)
    np.testing.assert_array_equal(
        metrics.pointing_game(maps, masks=masks, tolerance=0), [True, False]
    )
    # (2, 2) is at distance sqrt(2) from the box's pixel (1, 1).
    np.testing.assert_array_equal(
        metrics.pointing_game(maps, boxes=boxes, tolerance=1.4), [True, False]
    )
    np.testing.assert_array_equal(
        metrics.pointing_game(maps, boxes=boxes, tolerance=1.5), [True, True]
    )


def test_default_tolerance_is_15_pixels():
    boxes = [[0, 0, 16, 16]] * 2  # pixels 0..15
    maps = np.concatenate([_point_map(40, 40, 30, 15), _point_map(40, 40, 31, 15)])
    # (30, 15) is 15 pixels below (15, 15): hit; (31, 15) is 16 pixels: miss.
    np.testing.assert_array_equal(
        metrics.pointing_game(maps, boxes=boxes), [True, False]
    )


def test_tolerance_matches_brute_force_distance():
    rng = np.random.default_rng(0)
    maps = rng.uniform(0, 1, (40, 9, 11))
    masks = rng.uniform(0, 1, (40, 9, 11)) > 0.93
    for tolerance in (0, 1, 2.5, 4):
        hits = metrics.pointing_game(maps, masks=masks, tolerance=tolerance)
        expected = [
            _brute_force_hit(np.unravel_index(np.argmax(m), m.shape), mask, tolerance)
            for m, mask in zip(maps, masks)
        ]
        np.testing.assert_array_equal(hits, expected)
    assert 0 < np.mean(expected) < 1  # both outcomes occur


def test_tied_maxima_with_tolerance_match_brute_force():
    rng = np.random.default_rng(1)
    maps = rng.integers(0, 12, (30, 8, 9)).astype(float)  # ~7 tied maxima each
    masks = rng.uniform(0, 1, (30, 8, 9)) > 0.85
    for tolerance in (0, 1.5, 3):
        for ties, reduce in (("any", any), ("all", all)):
            hits = metrics.pointing_game(
                maps, masks=masks, tolerance=tolerance, ties=ties
            )
            expected = [
                reduce(
                    _brute_force_hit(p, mask, tolerance)
                    for p in zip(*np.nonzero(m == m.max()))
                )
                for m, mask in zip(maps, masks)
            ]
            np.testing.assert_array_equal(hits, expected)
            if (ties, tolerance) in (("any", 0), ("all", 3)):
                assert 0 < np.mean(expected) < 1  # both outcomes occur


def test_ties():
    # Maxima at (0, 0) and (2, 2); the box holds (2, 2) only.
    maps = np.zeros((1, 3, 3))
    maps[0, 0, 0] = maps[0, 2, 2] = 1.0
    box = [[2, 2, 3, 3]]
    assert not metrics.pointing_game(maps, boxes=box, tolerance=0, ties="first")[0]
    assert metrics.pointing_game(maps, boxes=box, tolerance=0, ties="any")[0]
    assert not metrics.pointing_game(maps, boxes=box, tolerance=0, ties="all")[0]
    assert metrics.pointing_game(maps, boxes=[[0, 0, 3, 3]], tolerance=0, ties="all")[0]


def test_all_zero_and_constant_maps_are_all_maxima():
    for maps in (np.zeros((1, 3, 3)), np.full((1, 3, 3), 0.4)):
        box = [[1, 1, 2, 2]]  # the centre pixel only
        assert not metrics.pointing_game(maps, boxes=box, tolerance=0)[0]  # (0, 0)
        assert metrics.pointing_game(maps, boxes=box, tolerance=0, ties="any")[0]
        assert not metrics.pointing_game(maps, boxes=box, tolerance=0, ties="all")[0]


def test_empty_region_is_a_miss():
    maps = np.full((1, 3, 3), 0.5)
    empty = np.zeros((1, 3, 3), dtype=bool)
    for ties in ("first", "any", "all"):
        assert not metrics.pointing_game(maps, masks=empty, ties=ties)[0]
    assert metrics.energy_pointing_game(maps, masks=empty)[0] == 0.0


def test_energy_by_hand():
    maps = np.array(
        [
            [[1.0, 1.0], [2.0, 0.0]],  # top row holds 2 of 4
            [[0.0, 0.0], [0.0, 0.0]],  # no energy: 0, not NaN
            [[0.3, 0.3], [0.0, 0.0]],  # all inside: 1
            [[0.2, 0.2], [0.2, 0.2]],  # constant: the box's area fraction
        ]
    )
    boxes = [[0, 0, 1, 2]] * 4
    np.testing.assert_allclose(
        metrics.energy_pointing_game(maps, boxes=boxes), [0.5, 0.0, 1.0, 0.5]
    )
    masks = np.zeros((4, 2, 2), dtype=bool)
    masks[:, 1, 0] = True
    np.testing.assert_allclose(
        metrics.energy_pointing_game(maps, masks=masks.astype(int)),
        [0.5, 0.0, 0.0, 0.25],
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {},
            ValueError,
            r"Exactly one of `masks` and `boxes` must be given. Received: masks=None, boxes=None",
        ),
        (
            {"masks": np.ones((1, 3, 3), bool), "boxes": [[0, 0, 1, 1]]},
            ValueError,
            r"Exactly one of `masks` and `boxes`",
        ),
        (
            {"masks": np.ones((1, 2, 3), bool)},
            ValueError,
            r"`masks` must have the shape of `maps` \(1, 3, 3\). Received: masks with shape \(1, 2, 3\)",
        ),
        (
            {"masks": np.full((1, 3, 3), 0.5)},
            ValueError,
            r"`masks` must be boolean \(or 0/1\)",
        ),
        (
            {"boxes": [[0, 0, 1, 1], [0, 0, 1, 1]]},
            ValueError,
            r"`boxes` must have shape \(batch_size, 4\) = \(1, 4\)",
        ),
        (
            {"boxes": [[2, 0, 1, 1]]},
            ValueError,
            r"y_min <= y_max and x_min <= x_max \(format 'yxyx'\). Received: boxes\[0\]=\[2.0, 0.0, 1.0, 1.0\]",
        ),
        (
            {"boxes": [[0, 0, np.nan, 1]]},
            ValueError,
            r"`boxes` must contain only finite values",
        ),
    ],
)
def test_invalid_regions(kwargs, error, match):
    maps = np.zeros((1, 3, 3))
    with pytest.raises(error, match=match):
        metrics.pointing_game(maps, **kwargs)
    with pytest.raises(error, match=match):
        metrics.energy_pointing_game(maps, **kwargs)


def test_invalid_arguments():
    maps = np.zeros((1, 3, 3))
    box = [[0, 0, 1, 1]]
    with pytest.raises(
        ValueError, match=r"`tolerance` must be >= 0 \(pixels\). Received: tolerance=-1"
    ):
        metrics.pointing_game(maps, boxes=box, tolerance=-1)
    with pytest.raises(
        TypeError, match=r"`tolerance` must be a number. Received: tolerance='15'"
    ):
        metrics.pointing_game(maps, boxes=box, tolerance="15")
    with pytest.raises(
        ValueError,
        match=r"`ties` must be one of \('first', 'any', 'all'\). Received: ties='random'",
    ):
        metrics.pointing_game(maps, boxes=box, ties="random")
    with pytest.raises(
        ValueError,
        match=r"`maps` must have non-negative values. Received: maps with minimum -1",
    ):
        metrics.energy_pointing_game(maps - 1, boxes=box)
    with pytest.raises(
        ValueError, match=r"`boxes` must have shape \(batch_size, 4\), one"
    ):
        metrics.boxes_to_masks([0, 0, 1, 1], 3, 3)
    with pytest.raises(
        ValueError, match=r"`height` must be at least 1. Received: height=0"
    ):
        metrics.boxes_to_masks(box, 0, 3)
