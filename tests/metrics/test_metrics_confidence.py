"""Average Drop % / Increase in Confidence %, against hand-computed cases."""

import numpy as np
import pytest
import tensorflow as tf

from lficam_tf import metrics

WHITE = np.full((2, 2, 3), 255.0)


def test_hand_cases_with_linear_scores(linear_predict_fn):
    # p(class 0) = brightness. On white images Y_0 = 1 and Y_1 = 0.
    images = np.stack([WHITE, WHITE, WHITE])
    maps = np.array(
        [
            [[1.0, 0.5], [0.0, 0.5]],  # O_0 = 0.5: drop (1 - .5) / 1 = 50 %
            [[1.0, 1.0], [1.0, 1.0]],  # O_0 = 1 = Y_0: no drop, no increase
            [[0.25, 0.25], [0.25, 0.25]],  # class 1: Y = 0, O = .75
        ]
    )
    result = metrics.confidence_change(
        linear_predict_fn, images, maps, class_index=[0, 0, 1]
    )
    np.testing.assert_allclose(result.full_scores, [1.0, 1.0, 0.0])
    np.testing.assert_allclose(result.explanation_scores, [0.5, 1.0, 0.75])
    # Y = 0 gives a drop term of 0 (no NaN); Y < O strictly for image 2 only.
    np.testing.assert_allclose(result.drop, [50.0, 0.0, 0.0])
    np.testing.assert_array_equal(result.increase, [0.0, 0.0, 100.0])
    assert result.average_drop == pytest.approx(50.0 / 3)
    assert result.increase_in_confidence == pytest.approx(100.0 / 3)
    np.testing.assert_array_equal(result.class_index, [0, 0, 1])


def test_softmax_scores_by_hand(softmax_predict_fn):
    # p(0) = 3/4 on white, 1/2 on black: the all-zero map drops by 1/3.
    # A map of 0.5 gives m = 0.5, p(0) = 3^0.5 / (3^0.5 + 1).
    maps = np.stack([np.zeros((2, 2)), np.full((2, 2), 0.5)])
    images = np.stack([WHITE, WHITE])
    result = metrics.confidence_change(softmax_predict_fn, images, maps)
    half = np.sqrt(3.0) / (np.sqrt(3.0) + 1.0)
    np.testing.assert_allclose(result.full_scores, [0.75, 0.75])
    np.testing.assert_allclose(result.explanation_scores, [0.5, half])
    np.testing.assert_allclose(
        result.drop, [100 * 0.25 / 0.75, 100 * (0.75 - half) / 0.75]
    )
    np.testing.assert_array_equal(result.increase, [0.0, 0.0])


def test_default_class_is_the_prediction_on_the_full_image(linear_predict_fn):
    # Brightness 0.2 -> class 1 predicted (0.8); the map halves the image to
    # brightness 0.1, so p(1) rises to 0.9: an increase, no drop.
    images = np.full((1, 2, 2, 3), 51.0)
    result = metrics.confidence_change(
        linear_predict_fn, images, np.full((1, 2, 2), 0.5)
    )
    np.testing.assert_array_equal(result.class_index, [1])
    np.testing.assert_allclose(result.full_scores, [0.8])
    np.testing.assert_allclose(result.explanation_scores, [0.9])
    np.testing.assert_array_equal(result.drop, [0.0])
    np.testing.assert_array_equal(result.increase, [100.0])


def test_the_map_multiplies_the_raw_image(linear_predict_fn, recorder):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (3, 4, 5, 3)).astype("float32")
    maps = rng.uniform(0, 1, (3, 4, 5))
    fn = recorder(linear_predict_fn)
    metrics.confidence_change(fn, images, maps, class_index=0)
    full, explanation = fn.batches
    np.testing.assert_array_equal(full, images)
    np.testing.assert_allclose(explanation, images * maps[..., None], rtol=1e-6)
    assert explanation.dtype == np.float32


def test_batch_size_gives_identical_results(softmax_predict_fn, recorder):
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, (5, 3, 3, 3))
    maps = rng.uniform(0, 1, (5, 3, 3))
    fn = recorder(softmax_predict_fn)
    small = metrics.confidence_change(fn, images, maps, batch_size=2)
    assert [len(b) for b in fn.batches] == [2, 2, 1, 2, 2, 1]
    large = metrics.confidence_change(softmax_predict_fn, images, maps, batch_size=64)
    np.testing.assert_array_equal(small.drop, large.drop)
    np.testing.assert_array_equal(small.increase, large.increase)


def test_round_off_outside_the_unit_interval_is_clipped(linear_predict_fn):
    images = np.stack([WHITE])
    maps = np.array([[[1.0 + 1e-7, 1.0], [-1e-7, 0.0]]], dtype="float32")
    result = metrics.confidence_change(linear_predict_fn, images, maps, class_index=0)
    np.testing.assert_allclose(result.explanation_scores, [0.5])
    with pytest.raises(ValueError, match=r"`maps` must have values in \[0, 1\]"):
        metrics.confidence_change(linear_predict_fn, images, maps + 1e-5)


def test_wrappers_and_score_helpers_agree(linear_predict_fn):
    rng = np.random.default_rng(2)
    images = rng.uniform(0, 255, (4, 3, 3, 3))
    maps = rng.uniform(0, 1, (4, 3, 3))
    result = metrics.confidence_change(linear_predict_fn, images, maps)
    np.testing.assert_array_equal(
        metrics.average_drop(linear_predict_fn, images, maps), result.drop
    )
    np.testing.assert_array_equal(
        metrics.increase_in_confidence(linear_predict_fn, images, maps), result.increase
    )
    full, explanation = result.full_scores, result.explanation_scores
    expected = [100 * max(0.0, y - o) / y for y, o in zip(full, explanation)]
    np.testing.assert_allclose(
        metrics.average_drop_from_scores(full, explanation), expected
    )
    np.testing.assert_array_equal(
        metrics.increase_in_confidence_from_scores(full, explanation),
        [100.0 if y < o else 0.0 for y, o in zip(full, explanation)],
    )


def test_tensor_outputs_and_tensor_class_index(linear_predict_fn):
    def tensor_fn(images):
        return tf.constant(linear_predict_fn(images), dtype=tf.float32)

    images = np.stack([WHITE])
    maps = np.full((1, 2, 2), 0.5)
    drop = metrics.average_drop(tensor_fn, images, maps, class_index=tf.constant([0]))
    np.testing.assert_allclose(drop, [50.0], rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"maps": np.full((1, 2, 2), 1.5)},
            ValueError,
            r"`maps` must have values in \[0, 1\].*Received: maps with values in \[1.5, 1.5\]",
        ),
        (
            {"maps": np.full((1, 2, 2, 1), 0.5)},
            ValueError,
            r"`maps` must have shape \(batch_size, height, width\).*\(1, 2, 2, 1\).*maps\[\.\.\., 0\]",
        ),
        (
            {"maps": np.full((2, 2), 0.5)},
            ValueError,
            r"Add a batch axis: `maps\[None\]`",
        ),
        (
            {"maps": np.full((1, 2, 2), np.nan)},
            ValueError,
            r"`maps` must contain only finite values",
        ),
        ({"maps": np.array([[["a"]]])}, TypeError, r"`maps` must be a numeric array"),
        (
            {"images": np.zeros((1, 3, 3, 3))},
            ValueError,
            r"`images` must have the batch size and spatial size of `maps` \(1, 2, 2\)",
        ),
        (
            {"images": np.zeros((1, 2, 2))},
            ValueError,
            r"`images` must have shape \(batch_size, height, width, channels\)",
        ),
        (
            {"class_index": [0, 1]},
            ValueError,
            r"`class_index` must be an int or have one entry per image, shape \(1,\)",
        ),
        ({"class_index": 2}, ValueError, r"`class_index` must be in \[0, 2\)"),
        ({"class_index": 0.5}, TypeError, r"`class_index` must be None, an int"),
        ({"class_index": True}, TypeError, r"`class_index` must be None, an int"),
        (
            {"batch_size": 0},
            ValueError,
            r"`batch_size` must be at least 1. Received: batch_size=0",
        ),
        (
            {"batch_size": "8"},
            TypeError,
            r"`batch_size` must be an int. Received: batch_size='8'",
        ),
        ({"predict_fn": "model"}, TypeError, r"`predict_fn` must be a callable"),
        (
            {"predict_fn": lambda x: np.full((len(x), 2), 3.0)},
            ValueError,
            r"`predict_fn` must return probabilities in \[0, 1\].*keras.ops.softmax",
        ),
        (
            {"predict_fn": lambda x: np.full((len(x),), 0.5)},
            ValueError,
            r"`predict_fn` must return probabilities of shape \(batch_size, num_classes\) = \(1, num_classes\)",
        ),
    ],
)
def test_invalid_arguments(linear_predict_fn, kwargs, error, match):
    arguments = {
        "predict_fn": linear_predict_fn,
        "images": np.stack([WHITE]),
        "maps": np.full((1, 2, 2), 0.5),
        "class_index": None,
        "batch_size": 64,
    }
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        metrics.confidence_change(**arguments)


def test_invalid_scores():
    with pytest.raises(ValueError, match=r"must be 1-D arrays of the same shape"):
        metrics.average_drop_from_scores([0.5, 0.5], [0.5])
    with pytest.raises(
        ValueError, match=r"`full_scores` must be probabilities in \[0, 1\]"
    ):
        metrics.increase_in_confidence_from_scores([2.0], [0.5])
    with pytest.raises(ValueError, match=r"`explanation_scores` must be probabilities"):
        metrics.average_drop_from_scores([0.5], [-0.5])
