"""Deletion / insertion AUC (RISE), against hand-computed curves and a plain loop."""

import numpy as np
import pytest

from lficam_tf import metrics
from lficam_tf.metrics import deletion_insertion

# One bright pixel at (0, 0) of a 2 x 2 black image: brightness 0.25.
BRIGHT = np.zeros((1, 2, 2, 3))
BRIGHT[0, 0, 0] = 255.0
GOOD_MAP = np.array([[[1.0, 0.0], [0.0, 0.0]]])  # points at the bright pixel
BAD_MAP = np.array([[[0.0, 1.0], [1.0, 1.0]]])  # ranks it last


def _trapezoid(values, xs):
    return sum(
        (xs[k] - xs[k - 1]) * (values[k - 1] + values[k]) / 2 for k in range(1, len(xs))
    )


def _reference(mode, predict_fn, images, maps, class_index, steps, base):
    """A plain per-image, per-step loop with Python's sort (ties: raster order)."""
    batch, height, width = maps.shape
    pixels = height * width
    curves, aucs = [], []
    for b in range(batch):
        order = sorted(range(pixels), key=lambda i: (-maps[b].flat[i], i))
        curve, xs = [], []
        for k in range(steps + 1):
            n = k * pixels // steps
            start, insert = (
                (images[b], base[b]) if mode == "deletion" else (base[b], images[b])
            )
            x = np.array(start, dtype=np.float64).copy()
            for i in order[:n]:
                x[i // width, i % width] = insert[i // width, i % width]
            curve.append(predict_fn(x[None].astype(np.float32))[0, class_index[b]])
            xs.append(n / pixels)
        curves.append(curve)
        aucs.append(_trapezoid(curve, xs))
    return np.array(curves), np.array(aucs)


def test_hand_cases(linear_predict_fn):
    # p(class 0) = brightness; deleting the bright pixel first drops it to 0.
    good = metrics.deletion_auc(
        linear_predict_fn, BRIGHT, GOOD_MAP, class_index=0, steps=4
    )
    bad = metrics.deletion_auc(
        linear_predict_fn, BRIGHT, BAD_MAP, class_index=0, steps=4
    )
    np.testing.assert_allclose(good.curves, [[0.25, 0, 0, 0, 0]])
    np.testing.assert_allclose(bad.curves, [[0.25, 0.25, 0.25, 0.25, 0]])
    np.testing.assert_allclose(good.fractions, [0, 0.25, 0.5, 0.75, 1.0])
    # 0.25 * (0.25 / 2) and 0.25 * (0.25 / 2 + 0.25 + 0.25 + 0.25 / 2).
    np.testing.assert_allclose(good.auc, [0.03125])
    np.testing.assert_allclose(bad.auc, [0.21875])
    assert good.mean_auc < bad.mean_auc  # lower deletion is better

    good = metrics.insertion_auc(
        linear_predict_fn, BRIGHT, GOOD_MAP, class_index=0, steps=4, baseline="zeros"
    )
    bad = metrics.insertion_auc(
        linear_predict_fn, BRIGHT, BAD_MAP, class_index=0, steps=4, baseline="zeros"
    )
    np.testing.assert_allclose(good.curves, [[0, 0.25, 0.25, 0.25, 0.25]])
    np.testing.assert_allclose(bad.curves, [[0, 0, 0, 0, 0.25]])
    np.testing.assert_allclose(good.auc, [0.21875])
    np.testing.assert_allclose(bad.auc, [0.03125])


def test_ties_are_broken_in_raster_order(linear_predict_fn):
    # Constant map: pixels go in raster order, (0, 0) first.
    constant = metrics.deletion_auc(
        linear_predict_fn, BRIGHT, np.full((1, 2, 2), 0.3), class_index=0, steps=4
    )
    np.testing.assert_allclose(constant.curves, [[0.25, 0, 0, 0, 0]])
    # Order (0, 1) [1.0], then (0, 0) before (1, 0) [0.5 each], then (1, 1).
    images = np.zeros((1, 2, 2, 3))
    images[0, 1, 0] = 255.0
    tied = np.array([[[0.5, 1.0], [0.5, 0.0]]])
    result = metrics.deletion_auc(
        linear_predict_fn, images, tied, class_index=0, steps=4
    )
    np.testing.assert_allclose(result.curves, [[0.25, 0.25, 0.25, 0, 0]])


def test_softmax_curves_match_a_plain_loop(softmax_predict_fn):
    # 3 x 3 = 9 pixels in 4 chunks: n_k = 0, 2, 4, 6, 9 (unequal x steps);
    # quantised maps have ties.
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (3, 3, 3, 3)).astype("float32")
    maps = rng.integers(0, 3, (3, 3, 3)) / 2.0
    classes = np.array([0, 1, 0])
    for mode, function, baseline in [
        ("deletion", metrics.deletion_auc, "zeros"),
        ("insertion", metrics.insertion_auc, "mean"),
    ]:
        result = function(
            softmax_predict_fn,
            images,
            maps,
            class_index=classes,
            steps=4,
            baseline=baseline,
        )
        base = deletion_insertion._baseline_images(images, baseline, 5.0, 11)
        curves, aucs = _reference(
            mode, softmax_predict_fn, images, maps, classes, 4, base
        )
        np.testing.assert_allclose(result.fractions, [0, 2 / 9, 4 / 9, 6 / 9, 1])
        np.testing.assert_allclose(result.curves, curves, rtol=1e-6)
        np.testing.assert_allclose(result.auc, aucs, rtol=1e-6)


def test_steps_extremes(linear_predict_fn):
    rng = np.random.default_rng(3)
    images = rng.uniform(0, 255, (2, 2, 3, 3))
    maps = rng.uniform(0, 1, (2, 2, 3))
    one = metrics.deletion_auc(linear_predict_fn, images, maps, class_index=0, steps=1)
    full = metrics.deletion_auc(linear_predict_fn, images, maps, class_index=0, steps=6)
    brightness = images.mean(axis=(1, 2, 3)) / 255.0
    # steps=1: the image, then all black: AUC = brightness / 2.
    np.testing.assert_allclose(one.curves, np.stack([brightness, [0, 0]], axis=1))
    np.testing.assert_allclose(one.auc, brightness / 2)
    np.testing.assert_allclose(full.fractions, np.arange(7) / 6)
    assert full.curves.shape == (2, 7)


def test_mean_and_array_baselines(linear_predict_fn):
    # Mean colour of BRIGHT: 255 / 4 = 63.75 in each channel. Each deleted
    # pixel becomes that grey, adding 63.75 / (4 * 255) = 1/16 to the brightness
    # (the bright pixel goes first, taking its 1/4 away).
    result = metrics.deletion_auc(
        linear_predict_fn, BRIGHT, GOOD_MAP, class_index=0, steps=4, baseline="mean"
    )
    per_pixel = 63.75 / (4 * 255.0)
    np.testing.assert_allclose(
        result.curves, [[0.25, per_pixel, 2 * per_pixel, 3 * per_pixel, 0.25]]
    )
    grey = metrics.deletion_auc(
        linear_predict_fn,
        BRIGHT,
        GOOD_MAP,
        class_index=0,
        steps=1,
        baseline=[51.0, 51.0, 51.0],
    )
    np.testing.assert_allclose(grey.curves, [[0.25, 0.2]])


def _numpy_blur(images, sigma, size):
    """Weighted mean over the in-image neighbours, pixel by pixel."""
    half = size // 2
    out = np.zeros_like(images, dtype=np.float64)
    _, height, width, _ = images.shape
    for r in range(height):
        for c in range(width):
            total, weight = 0.0, 0.0
            for dr in range(-half, half + 1):
                for dc in range(-half, half + 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < height and 0 <= cc < width:
                        w = np.exp(-(dr * dr + dc * dc) / (2 * sigma**2))
                        total = total + w * images[:, rr, cc].astype(np.float64)
                        weight += w
            out[:, r, c] = total / weight
    return out


@pytest.mark.parametrize("sigma, size", [(1.0, 3), (5.0, 11)])
def test_blur_baseline_matches_numpy(sigma, size):
    rng = np.random.default_rng(4)
    images = rng.uniform(0, 255, (2, 5, 6, 3)).astype("float32")
    blurred = deletion_insertion._gaussian_blur(images, sigma, size)
    np.testing.assert_allclose(blurred, _numpy_blur(images, sigma, size), rtol=1e-5)
    # A constant image stays constant, borders included (no darkening).
    flat = deletion_insertion._gaussian_blur(
        np.full((1, 4, 4, 3), 200.0, "float32"), sigma, size
    )
    np.testing.assert_allclose(flat, 200.0, rtol=1e-6)


def test_insertion_starts_from_the_blurred_image(linear_predict_fn):
    rng = np.random.default_rng(5)
    images = rng.uniform(0, 255, (1, 4, 4, 3)).astype("float32")
    maps = rng.uniform(0, 1, (1, 4, 4))
    result = metrics.insertion_auc(
        linear_predict_fn,
        images,
        maps,
        class_index=0,
        steps=2,
        blur_sigma=1.0,
        blur_kernel_size=3,
    )
    blurred = _numpy_blur(images, 1.0, 3)
    np.testing.assert_allclose(result.curves[0, 0], blurred.mean() / 255.0, rtol=1e-5)
    np.testing.assert_allclose(result.curves[0, -1], images.mean() / 255.0, rtol=1e-6)


def test_batching_gives_identical_results(softmax_predict_fn, recorder):
    rng = np.random.default_rng(6)
    images = rng.uniform(0, 255, (3, 4, 4, 3)).astype("float32")
    maps = rng.uniform(0, 1, (3, 4, 4))
    fn = recorder(softmax_predict_fn)
    small = metrics.insertion_auc(fn, images, maps, steps=5, batch_size=4)
    # 3 full images (batches of 4), then 3 * 5 perturbed ones: 15 in 4-batches.
    assert [len(b) for b in fn.batches] == [3, 4, 4, 4, 3]
    large = metrics.insertion_auc(
        softmax_predict_fn, images, maps, steps=5, batch_size=100
    )
    np.testing.assert_array_equal(small.curves, large.curves)
    np.testing.assert_array_equal(small.auc, large.auc)
    single = metrics.insertion_auc(
        softmax_predict_fn, images, maps, steps=5, batch_size=1
    )
    np.testing.assert_array_equal(single.auc, large.auc)


def test_default_class_is_the_prediction(linear_predict_fn):
    images = np.full((2, 2, 2, 3), 51.0)
    images[1] = 204.0
    result = metrics.deletion_auc(
        linear_predict_fn, images, np.ones((2, 2, 2)), steps=4
    )
    np.testing.assert_array_equal(result.class_index, [1, 0])
    np.testing.assert_allclose(result.curves[:, 0], [0.8, 0.8])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"steps": 0}, ValueError, r"`steps` must be at least 1. Received: steps=0"),
        ({"steps": 5}, ValueError, r"`steps` must be at most 4. Received: steps=5"),
        ({"steps": 2.0}, TypeError, r"`steps` must be an int. Received: steps=2.0"),
        (
            {"baseline": "gaussian"},
            ValueError,
            r"`baseline` must be one of \('zeros', 'blur', 'mean'\).*Received: baseline='gaussian'",
        ),
        (
            {"baseline": np.zeros((5,))},
            ValueError,
            r"`baseline` must broadcast to the images' shape \(1, 2, 2, 3\)",
        ),
        (
            {"baseline": [[np.nan]]},
            ValueError,
            r"`baseline` must contain only finite values",
        ),
        ({"baseline": object()}, TypeError, r"`baseline` must be one of"),
        (
            {"blur_kernel_size": 4},
            ValueError,
            r"`blur_kernel_size` must be odd. Received: blur_kernel_size=4",
        ),
        (
            {"blur_sigma": 0.0},
            ValueError,
            r"`blur_sigma` must be positive. Received: blur_sigma=0.0",
        ),
        ({"blur_sigma": "5"}, TypeError, r"`blur_sigma` must be a number"),
        ({"batch_size": -1}, ValueError, r"`batch_size` must be at least 1"),
        (
            {"maps": np.full((1, 2, 2), np.inf)},
            ValueError,
            r"`maps` must contain only finite values",
        ),
        ({"class_index": [3]}, ValueError, r"`class_index` must be in \[0, 2\)"),
    ],
)
def test_invalid_arguments(linear_predict_fn, kwargs, error, match):
    arguments = {"maps": GOOD_MAP, "steps": 4}
    arguments.update(kwargs)
    for function in (metrics.deletion_auc, metrics.insertion_auc):
        with pytest.raises(error, match=match):
            function(linear_predict_fn, BRIGHT, **arguments)
