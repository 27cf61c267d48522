"""Each CAM method owns its options: ScoreCAM defaults and checks
`chunk_size`, `top_n` and `masking`; `explain()` / `get_explainer` only
forward what they are given, and another method refuses them naming
Score-CAM."""

import inspect

import keras
import numpy as np
import pytest

from lficam_tf.explain import CAM_METHODS, explain, get_explainer, method_options
from lficam_tf.explain.cams import AblationCAM, BaseCAM, GradCAM, ScoreCAM

IMAGES = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")


@pytest.fixture(scope="module")
def small():
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="feat"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )


def test_scorecam_defaults_its_options_and_explain_forwards_them(small):
    cam = get_explainer(small, "scorecam")
    assert (cam.chunk_size, cam.top_n, cam.masking) == (32, None, "preprocessed")
    cam = get_explainer(small, "scorecam", chunk_size=5, top_n=2, masking="images")
    assert (cam.chunk_size, cam.top_n, cam.masking) == (5, 2, "images")
    assert get_explainer(small, "ablationcam").chunk_size == 32


def test_a_bad_chunk_size_is_refused_by_scorecam_naming_the_fix(small):
    fix = r"masked images per forward pass: pass e\.g\. chunk_size=32"
    with pytest.raises(
        ValueError,
        match=r"`chunk_size` must be at least 1\. Received: chunk_size=0\. .*" + fix,
    ):
        ScoreCAM(small, chunk_size=0)
    # explain() does not check it itself: the message is ScoreCAM's.
    with pytest.raises(ValueError, match=fix):
        explain(small, IMAGES, method="scorecam", chunk_size=0)
    with pytest.raises(
        TypeError, match=r"`top_n` must be an int or None\. .*Faster Score-CAM"
    ):
        ScoreCAM(small, top_n=2.5)
    with pytest.raises(ValueError, match="ablated feature maps per pass"):
        AblationCAM(small, chunk_size=-1)


def test_other_methods_refuse_score_cam_options_naming_the_owner(small):
    with pytest.raises(
        ValueError,
        match=r"`top_n` is a Score-CAM option\. Received: method='gradcam', "
        r"top_n=3\. Use method='scorecam', or leave `top_n` out\.",
    ):
        GradCAM(small, top_n=3)
    with pytest.raises(
        ValueError, match=r"`chunk_size` is a Score-CAM and Ablation-CAM option"
    ):
        explain(small, IMAGES, method="gradcam", chunk_size=8)
    with pytest.raises(TypeError, match="`colour` is not an option of the CAM methods"):
        GradCAM(small, colour="red")


def test_method_options_picks_what_each_method_takes():
    options = {"layer": "feat", "chunk_size": 8, "top_n": 2, "masking": "images"}
    assert method_options("scorecam", options) == options
    assert method_options("ablationcam", options) == {"layer": "feat", "chunk_size": 8}
    assert method_options("gradcam", options) == {"layer": "feat"}
    assert method_options("native", options) == {}


@pytest.mark.parametrize("method", list(CAM_METHODS))
def test_declared_options_are_the_constructors(method):
    cls = CAM_METHODS[method]
    own = set(inspect.signature(cls.__init__).parameters) - {"self", "model", "verbose"}
    takes = {p for p in own if p not in ("options", "others")}
    if "options" in own:  # the rest goes to BaseCAM
        takes |= set(BaseCAM.options)
    if method == "ablationcam":  # it names reshape_transform only to refuse it
        takes.discard("reshape_transform")
    assert set(cls.options) == takes
