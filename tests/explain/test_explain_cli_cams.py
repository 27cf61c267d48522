"""`lficam-explain` with the methods and options of issue 21: every new
method name, LayerCAM's fused layers (`--layer` repeated) and the
smoothing flags, on a small saved model; maps as `explain` makes them."""

import json

import keras
import numpy as np
import pytest

from lficam_tf.choices import POST_HOC_METHODS
from lficam_tf.explain import explain
from lficam_tf.explain.cli import build_parser, main


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain_cli_cams")
    keras.utils.set_random_seed(3)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(6, 3, padding="same", name="feat")(x)
    x = keras.layers.Conv2D(4, 1, activation="relu", name="mix")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3)(x), name="small")
    model.save(root / "model.keras")
    (root / "images").mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        image = rng.integers(0, 256, (16, 16, 3)).astype("uint8")
        keras.utils.save_img(root / "images" / f"im{i}.png", image)
    return root, model


def test_every_method_name_is_a_choice_of_the_command_line():
    parser = build_parser()
    for method in POST_HOC_METHODS:
        args = parser.parse_args(["m.keras", "a.png", "--out", "o", "--method", method])
        assert args.method == method


def test_fused_layers_and_smoothing_flags(workspace, capsys):
    root, model = workspace
    out = root / "out_layercam"
    argv = [str(root / "model.keras"), str(root / "images"), "--out", str(out)]
    argv += ["--method", "layercam", "--layer", "feat", "--layer", "mix"]
    argv += ["--aug-smooth", "--quiet"]
    assert main(argv) == 0
    report = json.loads((out / "predictions.json").read_text())
    assert report["method"] == "layercam" and report["layer"] == ["feat", "mix"]
    images = np.stack(
        [
            keras.utils.img_to_array(
                keras.utils.load_img(root / "images" / f"im{i}.png")
            )
            for i in range(2)
        ]
    )
    expected = explain(
        model, images, method="layercam", layer=["feat", "mix"], aug_smooth=True
    )
    assert [
        r["explained_class"] for r in report["images"]
    ] == expected.class_index.tolist()
    assert len(list(out.glob("*_layercam.png"))) == 2


def test_eigen_smooth_and_ablation_from_the_command_line(workspace):
    root, _ = workspace
    for method, extra in (("gradcam", ["--eigen-smooth"]), ("ablationcam", [])):
        out = root / f"out_{method}"
        argv = [str(root / "model.keras"), str(root / "images"), "--out", str(out)]
        assert main(argv + ["--method", method, "--quiet"] + extra) == 0
        assert json.loads((out / "predictions.json").read_text())["method"] == method
