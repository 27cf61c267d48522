"""Score-CAM reports its progress from inside its traced loop (issue 8: on
ResNet-50 at 224 one image is 2,048 forward passes, minutes on a CPU)."""

import numpy as np
import pytest

import lficam_tf
from lficam_tf.explain.cams import ScoreCAM


@pytest.fixture(scope="module")
def model():
    return lficam_tf.build_model("cifar_resnet20", 10, head="baseline")


def _images():
    return np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))


def test_verbose_shows_every_chunk_and_changes_no_value(model, capsys):
    # 64 channels x 2 images = 128 masked passes in chunks of 32: 4 chunks.
    quiet = ScoreCAM(model, chunk_size=32, verbose=False)
    maps_quiet, _, _ = quiet(_images(), np.array([-1, 3]))
    assert capsys.readouterr().out == ""
    loud = ScoreCAM(model, chunk_size=32, verbose=True)
    maps_loud, _, _ = loud(_images(), np.array([-1, 3]))
    out = capsys.readouterr().out
    assert "4/4" in out and "chunk" in out
    np.testing.assert_array_equal(maps_quiet.numpy(), maps_loud.numpy())
    # A second call (same trace) starts a new bar.
    loud(_images(), np.array([-1, 3]))
    assert "4/4" in capsys.readouterr().out


def test_auto_shows_only_calls_that_run_long(model, capsys):
    cam = ScoreCAM(model, chunk_size=16)
    assert (cam.progress.verbose, cam.progress.after_seconds) == ("auto", 2.0)
    cam.progress.after_seconds = 60.0  # 8 chunks of ResNet-20 take well under
    cam(_images(), np.array([-1, -1]))
    assert capsys.readouterr().out == ""
    cam.progress.after_seconds = 0.0  # every call is "long" now
    cam(_images(), np.array([-1, -1]))
    assert "8/8" in capsys.readouterr().out


def test_bad_verbose_names_the_choices(model):
    with pytest.raises(ValueError, match="'auto'.*verbose='yes'"):
        ScoreCAM(model, verbose="yes")
