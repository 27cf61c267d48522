"""`lficam-explain DIR --out DIR` twice: the rerun explains the user's images,
not the overlays the first run wrote beside them."""

import json

import keras
import numpy as np
import pytest

import lficam_tf
from lficam_tf.explain.cli import main


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rerun") / "model.keras"
    lficam_tf.build_model("cifar_resnet20", 3).save(path)
    return path


def test_a_rerun_into_the_same_folder_skips_its_overlays(model_file, tmp_path, capsys):
    rng = np.random.default_rng(0)
    for name in ("cat.png", "dog.png"):
        keras.utils.save_img(tmp_path / name, rng.integers(0, 256, (32, 32, 3)))
    argv = [str(model_file), str(tmp_path), "--out", str(tmp_path), "--quiet"]
    for method in ("native", "gradcam", "native"):
        assert main([*argv, "--method", method]) == 0
        report = json.loads((tmp_path / "predictions.json").read_text())
        explained = sorted(
            p.rsplit("/", 1)[-1] for p in (r["file"] for r in report["images"])
        )
        assert explained == ["cat.png", "dog.png"], explained
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "cat.png", "cat_gradcam.png", "cat_lficam.png",
        "dog.png", "dog_gradcam.png", "dog_lficam.png",
    ]  # fmt: skip
    capsys.readouterr()
    # A folder of nothing but overlays is an error, not an empty report.
    only = tmp_path / "only"
    only.mkdir()
    (tmp_path / "cat_lficam.png").rename(only / "cat_lficam.png")
    with pytest.raises(SystemExit):
        main([str(model_file), str(only), "--out", str(only)])
    assert "other than the overlays of an earlier run" in capsys.readouterr().err
