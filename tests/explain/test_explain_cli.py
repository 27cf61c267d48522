"""`lficam-explain` in-process (`main([...])`) and once as a subprocess."""

import json
import os
import subprocess
import sys

import keras
import matplotlib.image
import numpy as np
import pytest

import lficam_tf
from lficam_tf.explain import explain, overlay
from lficam_tf.explain.cli import main

CLASS_NAMES = [f"class_{i}" for i in range(10)]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A saved LFI-CAM model, its TF Serving export, and an image folder."""
    from lficam_tf.export import export

    root = tmp_path_factory.mktemp("explain_cli")
    model = lficam_tf.build_model("cifar_resnet20", 10)
    model.save(root / "model.keras")
    saved_model = export(
        model, root / "serving", version=1, top_k=10, class_names=CLASS_NAMES
    )
    rng = np.random.default_rng(0)
    (root / "images" / "sub").mkdir(parents=True)
    for i, folder in enumerate(["images", "images/sub", "images/sub"]):
        image = rng.integers(0, 256, (40, 36, 3)).astype("uint8")
        keras.utils.save_img(root / folder / f"im{i}.png", image)
    (root / "images" / "notes.txt").write_text("not an image")
    single = root / "single.jpg"
    keras.utils.save_img(single, rng.integers(0, 256, (32, 32, 3)).astype("uint8"))
    (root / "names.txt").write_text("\n".join(CLASS_NAMES) + "\n")
    return {
        "root": root,
        "keras": root / "model.keras",
        "saved_model": saved_model,
        "single": single,
    }


def _load(path):
    image = keras.utils.load_img(path, target_size=(32, 32), interpolation="bilinear")
    return keras.utils.img_to_array(image)[None]


def test_keras_model_with_a_post_hoc_method(workspace, capsys):
    out = workspace["root"] / "out_gradcam"
    code = main(
        [
            str(workspace["keras"]),
            str(workspace["root"] / "images"),
            str(workspace["single"]),
            "--out",
            str(out),
            "--method",
            "gradcam",
            "--top-k",
            "3",
            "--class-names",
            str(workspace["root"] / "names.txt"),
            "--batch-size",
            "2",
        ]
    )
    assert code == 0
    assert "4/4" in capsys.readouterr().out  # the progress bar of the folder
    report = json.loads((out / "predictions.json").read_text())
    assert report["method"] == "gradcam" and report["layer"] == "residual_attention"
    files = [record["file"] for record in report["images"]]
    assert [os.path.basename(f) for f in files] == [
        "im0.png",
        "im1.png",
        "im2.png",
        "single.jpg",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            "predictions.json",
            "im0_gradcam.png",
            "im1_gradcam.png",
            "im2_gradcam.png",
            "single_gradcam.png",
        ]
    )

    # Each record against an independent run of the library on the same image.
    model = keras.saving.load_model(workspace["keras"])
    for record in report["images"]:
        image = _load(record["file"])
        expected = explain(model, image, method="gradcam")
        top = np.argsort(-expected.probabilities[0])[:3]
        assert [e["class_index"] for e in record["top_k"]] == top.tolist()
        assert [e["class_name"] for e in record["top_k"]] == [
            CLASS_NAMES[i] for i in top
        ]
        np.testing.assert_allclose(
            [e["probability"] for e in record["top_k"]],
            expected.probabilities[0][top],
            atol=1e-5,
        )
        assert record["explained_class"] == int(top[0])
        assert record["explained_class_name"] == CLASS_NAMES[top[0]]
        written = matplotlib.image.imread(out / record["overlay"])[..., :3]
        blended = overlay(image[0], expected.maps[0])
        assert written.shape == (32, 32, 3)
        np.testing.assert_allclose(written * 255, blended, atol=1.01)


def test_saved_model_gives_the_keras_models_native_map(workspace):
    out_keras = workspace["root"] / "out_native_keras"
    out_saved = workspace["root"] / "out_native_saved"
    images = str(workspace["root"] / "images")
    assert (
        main([str(workspace["keras"]), images, "--out", str(out_keras), "--quiet"]) == 0
    )
    assert (
        main(
            [str(workspace["saved_model"]), images, "--out", str(out_saved), "--quiet"]
        )
        == 0
    )
    from_keras = json.loads((out_keras / "predictions.json").read_text())
    from_saved = json.loads((out_saved / "predictions.json").read_text())
    assert from_keras["method"] == "lficam" and from_saved["method"] == "native"
    for a, b in zip(from_keras["images"], from_saved["images"]):
        assert [e["class_index"] for e in a["top_k"]] == [
            e["class_index"] for e in b["top_k"]
        ]
        np.testing.assert_allclose(
            [e["probability"] for e in a["top_k"]],
            [e["probability"] for e in b["top_k"]],
            atol=1e-5,
        )
        # Class names stored in the export are used.
        assert [e["class_name"] for e in b["top_k"]] == [
            CLASS_NAMES[e["class_index"]] for e in b["top_k"]
        ]
        png_a = matplotlib.image.imread(out_keras / a["overlay"])
        png_b = matplotlib.image.imread(out_saved / b["overlay"])
        np.testing.assert_allclose(png_a, png_b, atol=2 / 255)


def test_cli_errors(workspace, tmp_path, capsys):
    images = str(workspace["root"] / "images")

    def fails(argv, message):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err

    fails(
        [
            str(workspace["saved_model"]),
            images,
            "--out",
            str(tmp_path),
            "--method",
            "gradcam",
        ],
        "`method` must be 'native' for a SavedModel",
    )
    fails(
        [
            str(workspace["keras"]),
            str(tmp_path / "missing.png"),
            "--out",
            str(tmp_path),
        ],
        "`IMAGE_OR_FOLDER` must be an image file or a folder",
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    fails(
        [str(workspace["keras"]), str(empty), "--out", str(tmp_path)],
        "must hold images",
    )
    fails(
        [str(workspace["root"] / "names.txt"), images, "--out", str(tmp_path)],
        "`MODEL` must be a .keras file, a SavedModel folder",
    )
    fails(
        [str(workspace["root"] / "serving"), images, "--out", str(tmp_path)],
        "pass a version folder",
    )
    (tmp_path / "three.json").write_text(json.dumps(["a", "b", "c"]))
    fails(
        [
            str(workspace["keras"]),
            images,
            "--out",
            str(tmp_path),
            "--class-names",
            str(tmp_path / "three.json"),
        ],
        "`--class-names` must name each of the model's 10 classes",
    )
    fails(
        [str(workspace["keras"]), images, "--out", str(tmp_path), "--top-k", "0"],
        "`--top-k` must be a positive int",
    )


@pytest.mark.slow
def test_runs_as_a_module_in_a_subprocess(workspace):
    out = workspace["root"] / "out_subprocess"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "lficam_tf.explain.cli",
            str(workspace["keras"]),
            str(workspace["single"]),
            "--out",
            str(out),
            "--method",
            "scorecam",
            "--top-n",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads((out / "predictions.json").read_text())
    assert report["method"] == "scorecam" and len(report["images"]) == 1
    assert (out / "single_scorecam.png").is_file()


def test_unreadable_files_are_named_and_skipped(workspace, tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for name in ("a.png", "b.webp", "c.jpg"):
        image = rng.integers(0, 256, (32, 32, 3)).astype("uint8")
        keras.utils.save_img(folder / name, image)
    good_jpeg = (folder / "c.jpg").read_bytes()
    (folder / "cut.jpg").write_bytes(good_jpeg[: len(good_jpeg) // 2])
    (folder / "text.png").write_text("no PNG")
    out = tmp_path / "out"
    code = main([str(workspace["keras"]), str(folder), "--out", str(out), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    for name in ("cut.jpg", "text.png"):
        assert f"lficam-explain: skipped {folder / name}: " in err
    assert "2 of 5 image files could not be read and were skipped" in err
    report = json.loads((out / "predictions.json").read_text())
    assert [os.path.basename(r["file"]) for r in report["images"]] == [
        "a.png",
        "b.webp",
        "c.jpg",
    ]
    assert [os.path.basename(s["file"]) for s in report["skipped"]] == [
        "cut.jpg",
        "text.png",
    ]
    assert (out / "b_lficam.png").is_file()


def test_help_documents_every_option_with_its_default():
    from lficam_tf.explain.cli import build_parser

    parser = build_parser()
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            assert "default" in action.help or "required" in action.help, action.dest
    assert "examples:" in parser.format_help()


@pytest.mark.parametrize(
    "module", ["lficam_tf.explain.cli", "lficam_tf.evaluation.cli"]
)
def test_help_loads_neither_tensorflow_nor_keras(module):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", module, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("usage: lficam-")
    lines = done.stderr.splitlines()
    assert lines and all(line.startswith("import time:") for line in lines)
    imported = {line.split("|")[-1].strip().split(".")[0] for line in lines}
    assert not imported & {"tensorflow", "keras"}


def test_method_names_are_those_of_the_explainers():
    from lficam_tf.choices import METHODS, POST_HOC_METHODS
    from lficam_tf.explain import CAM_METHODS, explanation

    assert tuple(CAM_METHODS) == POST_HOC_METHODS
    assert explanation.METHODS is METHODS
