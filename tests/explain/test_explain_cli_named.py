"""`lficam-explain WEIGHTS:BACKBONE[:HEAD]`: the package's trained classifiers.

A weights file saved by the test into a temporary package folder stands in
for the shipped ones (experiments/ship_checkpoints.py writes those).
"""

import json

import keras
import numpy as np
import pytest

import lficam_tf
from lficam_tf import presets
from lficam_tf.explain import explain
from lficam_tf.explain.cli import main
from lficam_tf.explain.model_files import parse_named_model


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setattr(presets, "PRETRAINED_DIR", folder)
    keras.utils.set_random_seed(3)
    model = lficam_tf.build_model("cifar_resnet20", 10, head="abn")
    model.save_weights(folder / "cifar_resnet20_abn_cifar10.weights.h5")
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3)).astype("uint8")
    keras.utils.save_img(tmp_path / "image.png", image)
    return model, tmp_path


def test_explains_with_the_shipped_model_and_its_class_names(shipped):
    model, root = shipped
    out = root / "out"
    code = main(
        ["cifar10:cifar_resnet20:abn", str(root / "image.png"), "--out", str(out)]
    )
    assert code == 0
    report = json.loads((out / "predictions.json").read_text())
    image = keras.utils.img_to_array(keras.utils.load_img(root / "image.png"))[None]
    expected = explain(model, image)
    record = report["images"][0]
    assert report["method"] == "abn"
    assert record["explained_class"] == int(expected.predictions[0])
    assert (
        record["explained_class_name"]
        == presets.CIFAR10_CLASS_NAMES[int(expected.predictions[0])]
    )
    assert record["top_k"][0]["probability"] == pytest.approx(
        float(expected.probabilities[0].max()), abs=1e-5
    )


def test_missing_weights_exit_2_naming_the_file(shipped, capsys):
    _, root = shipped
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "cifar10:cifar_resnet20",
                str(root / "image.png"),
                "--out",
                str(root / "o"),
            ]
        )
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "cifar_resnet20_lficam_cifar10.weights.h5" in error  # HEAD: lficam
    assert "experiments/ship_checkpoints.py" in error


def test_parse():
    assert parse_named_model("cifar10:cifar_resnet20:abn") == (
        "cifar10",
        "cifar_resnet20",
        "abn",
    )
    assert parse_named_model("cifar10:cifar_resnet20") == (
        "cifar10",
        "cifar_resnet20",
        "lficam",
    )
    assert parse_named_model("runs/model.keras") is None
    with pytest.raises(ValueError, match="must be WEIGHTS:BACKBONE\\[:HEAD\\]"):
        parse_named_model("cifar10:")
