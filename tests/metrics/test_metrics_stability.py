"""Stability across models (METHOD.md section 6 item 3), against hand-computed IoUs."""

import numpy as np
import pytest

from lficam_tf import metrics
from lficam_tf.api_export import EXPORTED


def test_iou_by_hand():
    # 255 * a = 255, 127.5, 51, 0 -> (T, T, F, F); 255 * b = 102, 99.45, 255, 0
    # -> (T, F, T, F): intersection 1, union 3.
    maps_a = np.array([[[1.0, 0.5], [0.2, 0.0]]])
    maps_b = np.array([[[0.4, 0.39], [1.0, 0.0]]])
    np.testing.assert_allclose(metrics.stability_iou(maps_a, maps_b), [1 / 3])
    np.testing.assert_allclose(metrics.stability_iou(maps_a, maps_a), [1.0])


def test_binarisation_is_strict():
    # 255 * 0.5 = 127.5 exactly: background at threshold 127.5, foreground at 127.
    half = np.array([[[0.5, 1.0]]])
    right = np.array([[[0.0, 1.0]]])
    np.testing.assert_allclose(
        metrics.stability_iou(half, right, threshold=127.5), [1.0]
    )
    np.testing.assert_allclose(metrics.stability_iou(half, right, threshold=127), [0.5])


def test_empty_masks():
    zeros = np.zeros((1, 3, 3))
    low = np.full((1, 3, 3), 0.39)  # 99.45: below 100, also empty
    some = np.zeros((1, 3, 3))
    some[0, 0, 0] = 1.0
    np.testing.assert_array_equal(metrics.stability_iou(zeros, low), [1.0])
    np.testing.assert_array_equal(metrics.stability_iou(zeros, some), [0.0])


def test_one_iou_per_image_paired_by_index():
    rng = np.random.default_rng(0)
    maps_a = rng.uniform(0, 1, (4, 5, 5))
    maps_b = rng.uniform(0, 1, (4, 5, 5))
    ious = metrics.stability_iou(maps_a, maps_b)
    for i in range(4):
        a, b = maps_a[i] * 255 > 100, maps_b[i] * 255 > 100
        assert ious[i] == pytest.approx(np.sum(a & b) / np.sum(a | b))
    # Pairing is by index: reordering both models the same way reorders the IoUs.
    order = [2, 0, 3, 1]
    shuffled = metrics.stability_iou(maps_a[order], maps_b[order])
    np.testing.assert_array_equal(shuffled, ious[order])


def test_matrix_by_hand():
    # Two images, three models; foreground pixels (value 1) listed per image.
    a = np.array([[[1, 1], [0, 0]], [[1, 1], [1, 1]]], dtype=float)
    b = np.array([[[1, 0], [0, 0]], [[1, 1], [0, 0]]], dtype=float)
    c = np.array([[[0, 0], [1, 1]], [[0, 0], [0, 0]]], dtype=float)
    result = metrics.stability_matrix([a, b, c])
    # a-b: 1/2 and 2/4; a-c: 0 and 0; b-c: 0 and 0.
    np.testing.assert_allclose(result.per_image[0, 1], [0.5, 0.5])
    np.testing.assert_allclose(result.per_image[1, 2], [0.0, 0.0])
    np.testing.assert_allclose(
        result.matrix, [[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]]
    )
    assert result.mean == pytest.approx(0.5 / 3)


def test_matrix_agrees_with_pairwise_iou():
    rng = np.random.default_rng(1)
    maps = [rng.uniform(0, 1, (3, 4, 4)) for _ in range(4)]
    result = metrics.stability_matrix(maps, threshold=120)
    assert result.per_image.shape == (4, 4, 3)
    for i in range(4):
        for j in range(4):
            expected = metrics.stability_iou(maps[i], maps[j], threshold=120).mean()
            assert result.matrix[i, j] == pytest.approx(expected)
    np.testing.assert_array_equal(result.matrix, result.matrix.T)
    np.testing.assert_array_equal(np.diag(result.matrix), np.ones(4))
    pairs = [result.matrix[i, j] for i in range(4) for j in range(i + 1, 4)]
    assert result.mean == pytest.approx(np.mean(pairs))


def test_invalid_arguments():
    maps = np.zeros((2, 3, 3))
    with pytest.raises(
        ValueError,
        match=r"`maps_a` and `maps_b` must have the same shape.*\(2, 3, 3\) and \(1, 3, 3\)",
    ):
        metrics.stability_iou(maps, maps[:1])
    with pytest.raises(ValueError, match=r"`maps_b` must have values in \[0, 1\]"):
        metrics.stability_iou(maps, maps + 2)
    with pytest.raises(
        ValueError, match=r"`threshold` must be in \[0, 255\].*Received: threshold=300"
    ):
        metrics.stability_iou(maps, maps, threshold=300)
    with pytest.raises(
        ValueError,
        match=r"`maps` must hold the maps of at least 2 models. Received: 1 model",
    ):
        metrics.stability_matrix([maps])
    with pytest.raises(
        TypeError,
        match=r"`maps` must be a list of N arrays.*of shape \(2, 3, 3\); use `list\(maps\)`",
    ):
        metrics.stability_matrix(maps)
    with pytest.raises(
        ValueError,
        match=r"maps\[0\] with shape \(2, 3, 3\) and maps\[1\] with shape \(2, 3, 4\)",
    ):
        metrics.stability_matrix([maps, np.zeros((2, 3, 4))])
    with pytest.raises(ValueError, match=r"`maps\[1\]` must have values in \[0, 1\]"):
        metrics.stability_matrix([maps, maps - 1])


def test_every_public_symbol_is_exported():
    for name in metrics.__all__:
        assert EXPORTED[f"lficam_tf.metrics.{name}"] is getattr(metrics, name)
