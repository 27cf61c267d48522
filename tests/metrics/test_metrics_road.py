"""ROAD (noisy linear imputation, MoRF / LeRF) against a dense numpy solve
written pixel by pixel, and its scores against predict_fn on those images."""

import numpy as np
import pytest

from lficam_tf.metrics import noisy_linear_imputation, road

RNG = np.random.default_rng(0)


def imputed_by_hand(image, removed):
    """Dense system, one equation per removed pixel: sum_j w (x_i - x_j) = 0."""
    h, w, c = image.shape
    unknown = [(r, q) for r in range(h) for q in range(w) if removed[r, q]]
    index = {p: n for n, p in enumerate(unknown)}
    a = np.zeros((len(unknown), len(unknown)))
    b = np.zeros((len(unknown), c))
    for n, (r, q) in enumerate(unknown):
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if (dy, dx) == (0, 0):
                    continue
                rr, qq = r + dy, q + dx
                if not (0 <= rr < h and 0 <= qq < w):
                    continue
                weight = 1 / 6 if dy == 0 or dx == 0 else 1 / 12
                a[n, n] += weight
                if removed[rr, qq]:
                    a[n, index[(rr, qq)]] -= weight
                else:
                    b[n] += weight * image[rr, qq]
    out = image.astype(np.float64).copy()
    solution = np.linalg.solve(a, b)
    for n, (r, q) in enumerate(unknown):
        out[r, q] = solution[n]
    return out


def test_imputation_solves_the_neighbour_system():
    image = RNG.uniform(0, 255, (7, 9, 3))
    removed = RNG.uniform(size=(7, 9)) < 0.6  # borders and corners included
    removed[3, 4] = False
    filled = noisy_linear_imputation(image, removed, noise=0.0)
    np.testing.assert_allclose(filled, imputed_by_hand(image, removed), atol=1e-8)
    np.testing.assert_array_equal(filled[~removed], image[~removed])


def test_imputation_noise_has_the_requested_spread_on_removed_pixels_only():
    image = RNG.uniform(0, 255, (20, 20, 3))
    removed = np.zeros((20, 20), bool)
    removed[5:15, 2:18] = True
    clean = noisy_linear_imputation(image, removed, noise=0.0)
    noisy = noisy_linear_imputation(image, removed, noise=3.0, seed=1)
    difference = (noisy - clean)[removed]
    assert abs(difference.std() - 3.0) < 0.3  # 480 draws: std within 10 %
    np.testing.assert_array_equal(noisy[~removed], image[~removed])


def _predict_left(images):
    """p(class 0) = brightness of the left half, in [0, 1]."""
    m = np.clip(np.asarray(images)[:, :, :3].mean(axis=(1, 2, 3)) / 255.0, 0, 1)
    return np.stack([m, 1.0 - m], axis=-1)


def test_road_scores_are_predict_fn_on_the_imputed_images():
    images = RNG.uniform(0, 255, (2, 6, 6, 3)).astype("float32")
    maps = RNG.uniform(size=(2, 6, 6))
    percentages = (25, 50, 75)
    scores = road(
        _predict_left,
        images,
        maps,
        class_index=[0, 1],
        percentages=percentages,
        noise=0.0,
    )
    for i in range(2):
        order = np.argsort(-maps[i].ravel(), kind="stable")
        for k, p in enumerate(percentages):
            n = int(np.floor(p * 36 / 100))
            most = np.zeros(36, bool)
            most[order[:n]] = True
            least = np.zeros(36, bool)
            least[order[36 - n :]] = True
            for removed, got in ((most, scores.morf), (least, scores.lerf)):
                image = imputed_by_hand(images[i], removed.reshape(6, 6))
                expected = _predict_left(image[None].astype("float32"))[0, [0, 1][i]]
                assert got[i, k] == pytest.approx(expected, abs=1e-6)
    np.testing.assert_allclose(scores.full, _predict_left(images)[[0, 1], [0, 1]])
    assert scores.combined == pytest.approx(
        (scores.lerf.mean() - scores.morf.mean()) / 2
    )


def test_a_map_on_the_evidence_scores_better_than_its_opposite():
    images = np.zeros((1, 8, 8, 3), "float32")
    images[0, :, :3] = 255.0  # the evidence of class 0: the bright left columns
    on = np.zeros((1, 8, 8))
    on[0, :, :3] = 1.0
    on += np.linspace(0, 0.1, 64).reshape(1, 8, 8)  # no ties
    good = road(_predict_left, images, on, class_index=0)
    bad = road(_predict_left, images, -on, class_index=0)
    assert good.morf_mean < bad.morf_mean
    assert good.lerf_mean > bad.lerf_mean
    assert good.combined > bad.combined


def test_road_argument_errors():
    images = np.zeros((1, 4, 4, 3))
    maps = np.zeros((1, 4, 4))
    with pytest.raises(
        ValueError, match=r"`percentages` must be numbers strictly between 0 and 100"
    ):
        road(_predict_left, images, maps, percentages=(50, 100))
    with pytest.raises(ValueError, match="`noise` must be >= 0"):
        road(_predict_left, images, maps, noise=-1.0)
    with pytest.raises(ValueError, match="`removed` must keep at least one pixel"):
        noisy_linear_imputation(images[0], np.ones((4, 4), bool))
