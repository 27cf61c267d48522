"""Score-CAM's `masking` choice reaches it from `explain()` and
`lficam-explain --masking`, and other methods refuse it."""

import numpy as np
import pytest

import lficam_tf
from lficam_tf.explain import explain
from lficam_tf.explain.cams import ScoreCAM
from lficam_tf.explain.cli import build_parser


@pytest.fixture(scope="module")
def model():
    return lficam_tf.build_model("cifar_resnet20", 10, head="baseline")


IMAGES = np.random.default_rng(3).uniform(0, 255, (2, 32, 32, 3))


def test_explain_passes_masking_to_scorecam(model):
    for masking in ("preprocessed", "images"):
        direct, _, _ = ScoreCAM(model, top_n=4, masking=masking)(
            IMAGES, np.array([1, 2])
        )
        via_explain = explain(
            model,
            IMAGES,
            method="scorecam",
            class_index=[1, 2],
            top_n=4,
            masking=masking,
        )
        np.testing.assert_allclose(via_explain.maps, direct.numpy(), atol=1e-6)
    default = explain(model, IMAGES, method="scorecam", class_index=[1, 2], top_n=4)
    black = explain(
        model, IMAGES, method="scorecam", class_index=[1, 2], top_n=4, masking="images"
    )
    # The model normalises its input (the dataset mean is not black), so
    # masking before and after the normalisation score the channels differently.
    assert np.abs(default.maps - black.maps).max() > 1e-3


def test_other_methods_refuse_masking(model):
    with pytest.raises(ValueError, match="`masking` is a Score-CAM option.*gradcam"):
        explain(model, IMAGES, method="gradcam", masking="images")
    lficam = lficam_tf.build_model("cifar_resnet20", 10)
    with pytest.raises(ValueError, match="`masking` is a Score-CAM option.*own map"):
        explain(lficam, IMAGES, masking="images")


def test_cli_flag():
    parser = build_parser()
    assert (
        parser.parse_args(["m.keras", "x.png", "--out", "o"]).masking == "preprocessed"
    )
    assert (
        parser.parse_args(
            ["m.keras", "x.png", "--out", "o", "--masking", "images"]
        ).masking
        == "images"
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["m.keras", "x.png", "--out", "o", "--masking", "black"])
