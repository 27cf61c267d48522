"""`lficam-eval` in-process: its files and their contents."""

import json

import keras
import matplotlib.image
import numpy as np
import pytest

import lficam_tf
from lficam_tf.evaluation.cli import main


def _tiny(head, seed, size=32, classes=6):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    backbone = keras.Model(inputs, x, name="tiny_backbone")
    return lficam_tf.build_model(backbone, classes, head=head, preprocessing="cifar")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_cli")
    paths = {}
    for name, head, seed in [
        ("lficam_a", "lficam", 0),
        ("lficam_b", "lficam", 1),
        ("plain", "baseline", 2),
    ]:
        paths[name] = root / f"{name}.keras"
        _tiny(head, seed).save(paths[name])
    paths["big"] = root / "big.keras"
    _tiny("lficam", 3, size=48).save(paths["big"])
    paths["two"] = root / "two.keras"
    _tiny("lficam", 4, classes=2).save(paths["two"])
    return root, paths


@pytest.mark.slow
def test_report_on_shapes_with_three_models(saved):
    root, paths = saved
    out = root / "report_shapes"
    argv = [str(paths[n]) for n in ("lficam_a", "lficam_b", "plain")]
    argv += [
        "--data",
        "shapes",
        "--out",
        str(out),
        "--num-images",
        "5",
        "--steps",
        "4",
        "--top-n",
        "4",
        "--examples",
        "2",
        "--quiet",
    ]
    assert main(argv) == 0
    expected_files = {
        "report.json",
        "report.md",
        "curves_lficam_a.png",
        "curves_lficam_b.png",
        "curves_plain.png",
        "examples_lficam_a.png",
        "examples_lficam_b.png",
        "examples_plain.png",
        "stability_lficam.png",
        "stability_gradcam.png",
        "stability_gradcampp.png",
        "stability_scorecam.png",
    }
    assert {p.name for p in out.iterdir()} == expected_files
    for name in expected_files - {"report.json", "report.md"}:
        assert matplotlib.image.imread(out / name).ndim == 3

    report = json.loads((out / "report.json").read_text())
    assert report["config"]["num_images"] == 5 and report["config"]["masks"] is True
    assert [m["name"] for m in report["models"]] == ["lficam_a", "lficam_b", "plain"]
    assert report["models"][2]["methods"] == ["gradcam", "gradcam++", "scorecam"]
    assert report["class_names"] == [
        "circle",
        "square",
        "triangle",
        "cross",
        "star",
        "ring",
    ]
    for model in report["models"]:
        for method in model["methods"]:
            values = report["metrics"][model["name"]][method]
            assert set(values) == {
                "average_drop",
                "increase_in_confidence",
                "deletion_auc",
                "insertion_auc",
                "road_morf",
                "road_lerf",
                "road_combined",
                "pointing_game",
                "energy_pointing_game",
                "box_accuracy",
                "box_iou",
            }
            assert (
                0 <= values["deletion_auc"] <= 1 and 0 <= values["pointing_game"] <= 1
            )
            assert values["road_combined"] == pytest.approx(
                (values["road_lerf"] - values["road_morf"]) / 2
            )
            assert len(report["curves"][model["name"]][method]["deletion"]) == 5
    assert report["stability"]["lficam"]["models"] == ["lficam_a", "lficam_b"]
    matrix = np.array(report["stability"]["gradcam"]["matrix"])
    assert matrix.shape == (3, 3) and np.allclose(np.diag(matrix), 1)
    pairs = matrix[np.triu_indices(3, 1)]
    assert report["stability"]["gradcam"]["mean"] == pytest.approx(pairs.mean())

    markdown = (out / "report.md").read_text()
    for heading in (
        "## lficam_a",
        "## lficam_b",
        "## plain",
        "### LFI-CAM: mean IoU",
        "![stability of gradcam++](stability_gradcampp.png)",
    ):
        assert heading in markdown
    ad = report["metrics"]["plain"]["gradcam"]["average_drop"]
    assert f"{ad:.3f}" in markdown.split("## plain")[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """An image folder of 2 classes, `train/` and `test/`."""
    root = tmp_path_factory.mktemp("folder_data")
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for label in ("cat", "dog"):
            (root / split / label).mkdir(parents=True)
            for i in range(2):
                image = rng.integers(0, 256, (40, 40, 3)).astype("uint8")
                keras.utils.save_img(root / split / label / f"{i}.png", image)
    return root


def test_report_on_an_image_folder_without_masks(saved, folder, tmp_path):
    _, paths = saved
    out = tmp_path / "report"
    argv = [
        str(paths["two"]),
        "--data",
        str(folder),
        "--out",
        str(out),
        "--num-images",
        "3",
        "--steps",
        "2",
        "--methods",
        "native",
        "gradcam",
        "--no-road",
        "--quiet",
    ]
    assert main(argv) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["road_percentages"] is None  # --no-road
    assert report["config"]["masks"] is False and report["config"]["num_images"] == 3
    assert set(report["metrics"]["two"]["lficam"]) == {
        "average_drop",
        "increase_in_confidence",
        "deletion_auc",
        "insertion_auc",
    }
    assert report["stability"] == {}
    assert "Needs at least two models" in (out / "report.md").read_text()
    assert not any(p.name.startswith("stability_") for p in out.iterdir())


def test_cli_errors(saved, folder, tmp_path, capsys):
    root, paths = saved

    def fails(argv, message):
        with pytest.raises(SystemExit) as exit_info:
            main(argv + ["--out", str(tmp_path / "x"), "--quiet"])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err

    fails([str(root), "--data", "shapes"], "`MODEL` must be a .keras file")
    fails(
        [
            str(paths["lficam_a"]),
            str(paths["big"]),
            "--data",
            "shapes",
            "--num-images",
            "2",
        ],
        "`models` must all take the images' size",
    )
    fails(
        [str(paths["lficam_a"]), "--data", "shapes", "--num-images", "0"],
        "`--num-images` must be a positive int",
    )
    fails(
        [
            str(paths["plain"]),
            "--data",
            "shapes",
            "--num-images",
            "2",
            "--methods",
            "lficam",
        ],
        "`methods` must include one that applies to model 'plain'",
    )
    fails(
        [str(paths["lficam_a"]), "--data", str(folder), "--num-images", "2"],
        "`--data` must have the models' classes: model 'lficam_a' has 6 classes",
    )


def test_help_documents_every_option_with_its_default():
    from lficam_tf.evaluation.cli import build_parser

    parser = build_parser()
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            assert "default" in action.help or "required" in action.help, action.dest
    assert "examples:" in parser.format_help()
