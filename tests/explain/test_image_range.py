"""Images scaled to 0..1 or -1..1 pass every check, and the models then
predict one class for all: `explain` and `evaluate` warn, once per call."""

import warnings

import numpy as np
import pytest

import lficam_tf
from lficam_tf.checks import ImageRangeWarning, warn_if_scaled
from lficam_tf.evaluation import evaluate
from lficam_tf.explain import explain


@pytest.fixture(scope="module")
def model():
    return lficam_tf.build_model("cifar_resnet20", num_classes=3)


def _range_warnings(caught):
    return [str(w.message) for w in caught if issubclass(w.category, ImageRangeWarning)]


@pytest.mark.parametrize(
    "low, high, scale, fix",
    [(0.0, 1.0, "0..1", "images * 255"), (-1.0, 1.0, "-1..1", r"(images + 1) * 127.5")],
)
def test_explain_warns_once_per_call_naming_the_range(model, low, high, scale, fix):
    images = np.random.default_rng(0).uniform(low, high, (5, 32, 32, 3))
    for _ in range(2):  # every call, not only the first
        with warnings.catch_warnings(record=True) as caught:
            explain(model, images, batch_size=2)  # three batches, one warning
        messages = _range_warnings(caught)
        assert len(messages) == 1, messages
        assert f"looks like images scaled to {scale}" in messages[0]
        assert "the models take RGB in 0..255" in messages[0]
        assert fix in messages[0]
        ours = [w for w in caught if issubclass(w.category, ImageRangeWarning)]
        assert ours[0].filename == __file__  # points at the caller


def test_evaluate_warns_once(model):
    images = np.random.default_rng(1).uniform(0, 1, (2, 32, 32, 3))
    with warnings.catch_warnings(record=True) as caught:
        evaluate([model], images, methods=["native"], steps=2)
    messages = _range_warnings(caught)
    assert len(messages) == 1 and "scaled to 0..1" in messages[0], messages


@pytest.mark.parametrize(
    "images",
    [
        np.random.default_rng(2).uniform(0, 255, (2, 8, 8, 3)),  # RGB 0..255
        np.zeros((2, 8, 8, 3)),  # black: one value, nothing to tell
        np.ones((2, 8, 8, 3), np.uint8),  # uint8 is never scaled
    ],
)
def test_no_warning_for_images_in_0_255(images):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert warn_if_scaled(images) is False
    assert not _range_warnings(caught)


def test_each_call_checks_its_images_once(model, monkeypatch):
    """`check_images` owns the image check: explain, explain_with and
    evaluate run it once per call, however many batches and methods, and
    warn once."""
    import importlib

    from lficam_tf.explain import explain_with, explanation, get_explainer
    from lficam_tf.explain.images import check_images

    calls = []

    def counting(images):
        calls.append(1)
        return check_images(images)

    evaluate_module = importlib.import_module("lficam_tf.evaluation.evaluate")
    monkeypatch.setattr(explanation, "check_images", counting)
    monkeypatch.setattr(evaluate_module, "check_images", counting)
    images = np.random.default_rng(3).uniform(0, 1, (5, 32, 32, 3))
    runs = [  # (call, ImageRangeWarnings expected)
        (lambda: explain(model, images, batch_size=2), 1),
        (
            lambda: explain_with(
                get_explainer(model, "gradcam"), 255 * images, None, 2
            ),
            0,
        ),
        (
            lambda: evaluate(
                [model], images[:2], methods=["native", "gradcam"], steps=2
            ),
            1,
        ),
    ]
    for run, expected in runs:
        calls.clear()
        with warnings.catch_warnings(record=True) as caught:
            run()
        assert len(calls) == 1
        assert len(_range_warnings(caught)) == expected
