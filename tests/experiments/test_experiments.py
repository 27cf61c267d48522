"""Every experiment script end to end at the tiny size (experiments/).

The "shapes" experiments run everywhere; the CIFAR-10 ones (and
run_study.py, which runs everything) need the shared CIFAR-10 images and
skip cleanly without them. Tiny: a few 16x16 / 32x32 images, one epoch.

A training costs about 30 s on 2 cores (tracing, export), so one model is
trained for real, through the scripts: a run killed after it wrote its
configuration, which the scripts resume. The other models of the tiny
study are finished run folders made here (an untrained model, its
configuration, made-up metrics), which the scripts skip as finished and
then explain and score for real.
"""

import json
import pathlib
import shutil

import numpy as np
import pytest
import studylib

REPO = pathlib.Path(__file__).resolve().parents[2]


def _tiny_cifar(test_folder, root, train_per_class=5, test_per_class=2):
    """A CIFAR-10 image folder of real images: a few per class and split."""
    for class_dir in sorted(test_folder.iterdir()):
        files = sorted(class_dir.glob("*.jpg"))
        for split, chosen in (
            ("train", files[:train_per_class]),
            ("test", files[train_per_class : train_per_class + test_per_class]),
        ):
            target = root / split / class_dir.name
            target.mkdir(parents=True)
            for path in chosen:
                (target / path.name).symlink_to(path)
    return root


def _metrics_times(runs):
    return {p: p.stat().st_mtime_ns for p in sorted(runs.glob("*/*/metrics.json"))}


def _expensive_results(results):
    """Modification times of the results that cost more than reading JSON."""
    paths = [
        *results.glob("stability_*.json"),
        *results.glob("eval_*/report.json"),
        *results.glob("weights/*"),
    ]
    return {p: p.stat().st_mtime_ns for p in sorted(paths)}


def _fake_finished_run(study, spec, index):
    """The run folder `train()` leaves, without training: an untrained model
    of the spec, its configuration, and made-up metrics (`0.1 * index`)."""
    import keras

    import lficam_tf

    config = spec.config(study)
    path = study.run_path(spec)
    path.mkdir(parents=True)
    keras.utils.set_random_seed(index)
    model = lficam_tf.build_model(
        config.backbone,
        10 if spec.dataset == "cifar10" else 6,
        input_shape=(*config.image_size, 3),
        head=spec.head,
        fin_width=config.fin_width,
    )
    model.save(path / "model.keras")
    (path / "config.json").write_text(config.to_json())
    metrics = {
        "test_accuracy": 0.1 * index,
        "best_test_accuracy": 0.1 * index + 0.05,
        "best_epoch": 1,
        "epochs": config.epochs,
        "energy_pointing_game": None,
        "train_images_per_second": 100.0 + index,
        "wall_seconds": 10.0 * index,
        "train_size": config.num_train,
        "test_size": config.num_test,
        "image_size": list(config.image_size),
    }
    (path / "metrics.json").write_text(json.dumps(metrics))


def _fake_study(study, specs, skip=()):
    for index, spec in enumerate(specs, start=1):
        if spec not in skip and not study.run_path(spec).exists():
            _fake_finished_run(study, spec, index)


@pytest.fixture(scope="module")
def shapes_study(tmp_path_factory):
    """stability.py, localization.py, faithfulness.py on "shapes", tiny."""
    import faithfulness
    import localization
    import stability

    root = tmp_path_factory.mktemp("study")
    folders = {"results": root / "results", "runs": root / "runs"}
    study = studylib.Study("tiny", folders["results"], folders["runs"], verbose=0)
    # A run killed just after it wrote its configuration: the scripts resume it.
    killed = studylib.evaluation_specs(study.size, "shapes")[2]
    assert killed.head == "baseline"  # The cheapest to train.
    _fake_study(
        study,
        studylib.variant_specs(study.size, "shapes", ("lficam", "abn"), 2)
        + studylib.evaluation_specs(study.size, "shapes"),
        skip=[killed],
    )
    killed_config = killed.config(study).to_json()
    study.run_path(killed).mkdir(parents=True)
    (study.run_path(killed) / "config.json").write_text(killed_config)

    common = ["--tiny", "--quiet"] + [
        arg for key, path in folders.items() for arg in (f"--{key}", str(path))
    ]
    assert stability.main(["--dataset", "shapes", *common]) == 0
    assert localization.main(common) == 0
    assert faithfulness.main(["--dataset", "shapes", *common]) == 0
    return {
        **folders,
        "study": study,
        "common": common,
        "killed": (study.run_path(killed), killed_config),
    }


@pytest.fixture(scope="module")
def full_tiny_study(shapes_study, cifar10_test_folder, tmp_path_factory):
    """run_study.py --tiny: every step, CIFAR-10 included, then the tables."""
    import run_study

    cifar = _tiny_cifar(cifar10_test_folder, tmp_path_factory.mktemp("cifar"))
    study = studylib.Study(
        "tiny",
        shapes_study["results"],
        shapes_study["runs"],
        cifar_dir=cifar,
        verbose=0,
    )
    _fake_study(
        study,
        studylib.variant_specs(study.size, "cifar10", ("baseline", "abn", "lficam"), 1)
        + studylib.variant_specs(study.size, "cifar10", ("lficam", "abn"), 2),
    )
    tables = shapes_study["results"].parent / "RESULTS.md"
    shutil.copy(REPO / "docs" / "RESULTS.md", tables)
    argv = shapes_study["common"] + ["--cifar-dir", str(cifar), "--tables", str(tables)]
    assert run_study.main(argv) == 0
    runs = _metrics_times(shapes_study["runs"])
    results = _expensive_results(shapes_study["results"])
    # The same command again: everything is finished, nothing is redone.
    assert run_study.main(argv) == 0
    return {
        **shapes_study,
        "cifar": cifar,
        "tables": tables,
        "argv": argv,
        "before_rerun": (runs, results),
    }


def _read(folders, name):
    return json.loads((folders["results"] / name).read_text())


def test_stability_shapes(shapes_study):
    import keras

    from lficam_tf.explain import explain

    data = _read(shapes_study, "stability_shapes.json")
    assert set(data["stability"]) == {"lficam", "abn", "gradcam_lficam", "gradcam_abn"}
    assert data["size"] == "tiny" and data["paper"] is None
    for value in data["stability"].values():
        matrix = np.array(value["matrix"])
        assert matrix.shape == (2, 2)
        np.testing.assert_allclose(np.diag(matrix), 1.0)
        assert value["mean"] == pytest.approx(matrix[0, 1], abs=1e-4)
        # One pair: the per-image IoU averages to the pair's entry.
        assert np.mean(value["per_image_mean_iou"]) == pytest.approx(
            matrix[0, 1], abs=1e-3
        )
    # The LFI-CAM number against numpy on the same models and images.
    study = shapes_study["study"]
    specs = studylib.variant_specs(study.size, "shapes", ("lficam",), 2)
    images, *_ = studylib.test_images(study, "shapes", (32, 32), 6)
    masks = []
    for spec in specs:
        model = keras.saving.load_model(study.run_path(spec) / "model.keras")
        masks.append(255.0 * explain(model, images).maps > 100)
    union = np.sum(masks[0] | masks[1], axis=(1, 2))
    iou = np.where(
        union > 0, np.sum(masks[0] & masks[1], axis=(1, 2)) / np.maximum(union, 1), 1.0
    )
    assert data["stability"]["lficam"]["mean"] == pytest.approx(iou.mean(), abs=1e-6)
    assert data["stability"]["lficam"]["models"] == [s.name for s in specs]
    for figure in data["figures"]:
        assert (REPO / figure).is_file() or pathlib.Path(figure).is_file()
    # Each trained model's numbers were written as it finished.
    for name, record in data["models"].items():
        saved = _read(shapes_study, f"runs/shapes/{name}.json")
        assert saved == record
        metrics = json.loads(
            (shapes_study["runs"] / "shapes" / name / "metrics.json").read_text()
        )
        assert record["test_accuracy"] == metrics["test_accuracy"]


def test_killed_run_was_resumed_and_trained(shapes_study):
    path, config = shapes_study["killed"]
    assert (path / "config.json").read_text() == config
    metrics = json.loads((path / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics["train_size"] == 48
    assert (path / "training_log.csv").read_text().count("\n") == 2  # One epoch.
    record = _read(shapes_study, f"runs/shapes/{path.name}.json")
    assert record["test_accuracy"] == metrics["test_accuracy"]
    assert record["recipe"]["optimizer"] == "adamw"


def test_fresh_checkout_uses_committed_weights(shapes_study, tmp_path):
    """A new checkout has the committed results (numbers and weights) but no
    run folders: the study trains nothing again, and the models built from
    the weights give the same maps as the run folders' models."""
    import h5py
    import stability

    results = tmp_path / "results"
    shutil.copytree(shapes_study["results"], results)
    for record in shapes_study["results"].glob("runs/*/*.json"):
        dataset, name = record.parent.name, record.stem
        weights = shapes_study["results"] / "models" / dataset / f"{name}.weights.h5"
        with h5py.File(weights, "r") as file:
            assert "layers" in file and "optimizer" not in file  # Weights only.
    (results / "stability_shapes.json").unlink()
    runs = tmp_path / "runs"
    argv = ["--dataset", "shapes", "--tiny", "--quiet", "--results", str(results)]
    assert stability.main(argv + ["--runs", str(runs)]) == 0
    assert not runs.exists() or not any(runs.rglob("*"))  # Nothing trained.
    before = _read(shapes_study, "stability_shapes.json")["stability"]
    after = _read({"results": results}, "stability_shapes.json")["stability"]
    for key in before:
        np.testing.assert_allclose(
            after[key]["matrix"], before[key]["matrix"], atol=1e-6
        )
        np.testing.assert_allclose(
            after[key]["per_image_mean_iou"],
            before[key]["per_image_mean_iou"],
            atol=1e-6,
        )


def test_stability_on_more_or_fewer_models(shapes_study, tmp_path):
    """--variants N: the stability of the first N models per method (an
    interim result while the study trains the rest), recomputed when the
    number changes; the tables say it is interim and count its pairs."""
    import stability
    import tables

    results, runs = tmp_path / "results", tmp_path / "runs"
    shutil.copytree(shapes_study["results"], results)
    shutil.copytree(shapes_study["runs"], runs)
    study = studylib.Study("tiny", results, runs, verbose=0)
    three = studylib.variant_specs(study.size, "shapes", stability.HEADS, 3)
    _fake_study(study, three)
    argv = ["--dataset", "shapes", "--tiny", "--quiet", "--results", str(results)]
    assert stability.main(argv + ["--runs", str(runs), "--variants", "3"]) == 0
    data = _read({"results": results}, "stability_shapes.json")
    assert data["protocol"]["models_per_method"] == 3
    assert data["stability"]["lficam"]["models"] == [
        s.name for s in three if s.head == "lficam"
    ]
    matrix = np.asarray(data["stability"]["abn"]["matrix"])
    assert matrix.shape == (3, 3)
    # The mean over the 3 pairs i < j of the IoU matrix.
    assert data["stability"]["abn"]["mean"] == pytest.approx(
        matrix[np.triu_indices(3, k=1)].mean(),
        abs=1e-4,  # Entries at 4 decimals.
    )
    text = tables.stability_block(results, tmp_path / "RESULTS.md", "shapes")
    assert "over the 3 model pairs" in text and "_Interim" not in text  # Tiny.
    data["size"] = "full"
    (results / "stability_shapes.json").write_text(json.dumps(data))
    text = tables.stability_block(results, tmp_path / "RESULTS.md", "shapes")
    assert "_Interim: 3 of the 5 models per method so far" in text
    with pytest.raises(SystemExit, match="at least 2 models per method"):
        stability.main(argv + ["--runs", str(runs), "--variants", "1"])


def test_frozen_code_writes_into_the_study_checkout(tmp_path):
    """study_bg.sh runs a frozen copy of the code for this checkout
    (LFICAM_STUDY_REPO): the defaults point into this checkout, and paths in
    the results are relative to it."""
    import os
    import subprocess
    import sys

    code = (
        "import studylib; print(studylib.REPO); print(studylib.RESULTS); "
        "print(studylib.rel(studylib.REPO / 'experiments' / 'runs' / 'x'))"
    )
    env = dict(
        os.environ,
        LFICAM_STUDY_REPO=str(tmp_path),
        PYTHONPATH=str(REPO / "experiments"),
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    root = tmp_path.resolve()
    assert out == [
        str(root),
        str(root / "experiments" / "results"),
        "experiments/runs/x",
    ]


def test_localization(shapes_study):
    data = _read(shapes_study, "localization.json")
    rows = data["rows"]
    # Tiny scores the own maps and Grad-CAM (the study adds Grad-CAM++ and
    # Score-CAM): the paper's comparison first, then Grad-CAM on the
    # LFI-CAM and ABN models.
    assert [(r["model"], r["method"], r["primary"]) for r in rows] == [
        ("lficam", "lficam", True),
        ("abn", "abn", True),
        ("baseline", "gradcam", True),
        ("lficam", "gradcam", False),
        ("abn", "gradcam", False),
    ]
    for row in rows:
        for key in ("energy_pointing_game", "pointing_game", "box_accuracy", "box_iou"):
            assert 0.0 <= row[key] <= 1.0
    assert 0.0 < data["mask_fraction"] < 1.0
    report = json.loads(
        (shapes_study["results"] / "eval_shapes" / "report.json").read_text()
    )
    assert (
        rows[0]["energy_pointing_game"]
        == report["metrics"]["lficam"]["lficam"]["energy_pointing_game"]
    )
    figures = shapes_study["results"] / "figures"
    assert (figures / "compare_shapes.png").is_file()
    for head in ("lficam", "abn", "baseline"):  # each model's methods side by side
        assert (figures / f"compare_shapes_{head}.png").is_file()


def test_killed_evaluation_resumes_from_its_pieces(shapes_study, tmp_path):
    """Each model and method is saved as it finishes: with the report lost
    (a run killed before it), the evaluation scores only what is missing;
    a piece without its maps (a fresh checkout) has them explained again."""
    import localization

    pieces = shapes_study["results"] / "eval_shapes" / "pieces"
    names = sorted(p.name for p in pieces.glob("*.json"))
    assert names == sorted(
        f"{head}-{method}.json"
        for head, method in [
            ("lficam", "lficam"),
            ("lficam", "gradcam"),
            ("abn", "abn"),
            ("abn", "gradcam"),
            ("baseline", "gradcam"),
        ]
    )
    # A copy of the study killed after 4 of 5 pieces, in a fresh checkout
    # that lost one piece's maps.
    results, runs = tmp_path / "results", tmp_path / "runs"
    shutil.copytree(shapes_study["results"], results)
    shutil.copytree(shapes_study["runs"], runs, symlinks=True)
    (results / "eval_shapes" / "report.json").unlink()
    (results / "eval_shapes" / "pieces" / "abn-gradcam.json").unlink()
    (runs / "eval_shapes_pieces" / "lficam-gradcam.npz").unlink()
    kept = {
        p.name: p.stat().st_mtime_ns
        for p in (results / "eval_shapes" / "pieces").iterdir()
    }
    argv = ["--tiny", "--quiet", "--results", str(results), "--runs", str(runs)]
    assert localization.main(argv) == 0
    after = {
        p.name: p.stat().st_mtime_ns
        for p in (results / "eval_shapes" / "pieces").iterdir()
    }
    assert {n: t for n, t in after.items() if n in kept} == kept  # not scored again
    assert "abn-gradcam.json" in after
    assert (runs / "eval_shapes_pieces" / "lficam-gradcam.npz").is_file()
    old = json.loads(
        (shapes_study["results"] / "eval_shapes" / "report.json").read_text()
    )
    new = json.loads((results / "eval_shapes" / "report.json").read_text())
    for model, per_method in old["metrics"].items():
        for method, values in per_method.items():
            for key, value in values.items():
                assert new["metrics"][model][method][key] == pytest.approx(
                    value, abs=1e-6
                )
    assert new["stability"].keys() == old["stability"].keys() == {"gradcam"}
    np.testing.assert_allclose(
        new["stability"]["gradcam"]["matrix"], old["stability"]["gradcam"]["matrix"]
    )


def test_faithfulness_shapes(shapes_study):
    data = _read(shapes_study, "faithfulness_shapes.json")
    assert len(data["rows"]) == 5
    for row in data["rows"]:
        assert 0.0 <= row["deletion_auc"] <= 1.0 and 0.0 <= row["insertion_auc"] <= 1.0
        assert row["average_drop"] >= 0.0
        assert 0.0 <= row["road_morf"] <= 1.0 and 0.0 <= row["road_lerf"] <= 1.0
        assert row["road_combined"] == pytest.approx(
            (row["road_lerf"] - row["road_morf"]) / 2
        )
    assert data["road_percentages"] == [50]  # the tiny size's
    # localization.py's evaluation was reused, not run again.
    assert (
        data["eval_seconds"] == _read(shapes_study, "localization.json")["eval_seconds"]
    )


def test_accuracy(full_tiny_study):
    data = _read(full_tiny_study, "accuracy.json")
    assert data["complete"] and data["backbone"] == "cifar_resnet20"
    assert data["recipe"]["schedule"] == "cosine"
    assert data["recipe"]["weight_decay_mode"] == "coupled"
    for head in ("baseline", "abn", "lficam"):
        row = data["heads"][head]
        assert row["runs"] == [f"{head}-s0-e1-i16"]
        record = _read(full_tiny_study, f"runs/cifar10/{head}-s0-e1-i16.json")
        metrics = json.loads(
            (
                full_tiny_study["runs"]
                / "cifar10"
                / f"{head}-s0-e1-i16"
                / "metrics.json"
            ).read_text()
        )
        assert record["test_accuracy"] == metrics["test_accuracy"]
        assert row["test_accuracy"] == [record["test_accuracy"]]
        assert row["test_accuracy_mean"] == record["test_accuracy"]
        assert row["test_accuracy_std"] is None  # One seed: no spread.
    # Two seeds: the mean and the sample standard deviation.
    import accuracy

    records = [
        {
            **_read(full_tiny_study, "runs/cifar10/lficam-s0-e1-i16.json"),
            "test_accuracy": a,
        }
        for a in (0.80, 0.86)
    ]
    row = accuracy.summarize(records)["lficam"]
    assert row["test_accuracy_mean"] == pytest.approx(0.83)
    assert row["test_accuracy_std"] == pytest.approx(np.std([0.80, 0.86], ddof=1))


def test_fit_check(full_tiny_study):
    """Clean training and test accuracy of each accuracy run, recomputed here
    from the files (sorted, every 5th training file) and the saved models."""
    import fit_check
    import keras
    import tensorflow as tf

    argv = full_tiny_study["common"] + ["--cifar-dir", str(full_tiny_study["cifar"])]
    assert fit_check.main(argv) == 0
    rows = _read(full_tiny_study, "fit_check.json")["rows"]
    assert [row["run"] for row in rows] == [
        f"{head}-s0-e1-i16" for head in ("baseline", "abn", "lficam")
    ]

    def accuracy_of(model, folder, every):
        files = sorted(folder.glob("*/*.jpg"))[::every]
        classes = sorted(p.name for p in folder.iterdir())
        images = np.stack(
            [
                tf.io.decode_jpeg(tf.io.read_file(str(f)), channels=3).numpy()
                for f in files
            ]
        ).astype("float32")
        # The tiny study's models take 16x16: resized as in training.
        images = np.round(
            np.clip(tf.image.resize(images, (16, 16), antialias=True), 0, 255)
        )
        predicted = np.argmax(np.asarray(model(images)["logits"]), axis=-1)
        return np.mean(predicted == [classes.index(f.parent.name) for f in files]), len(
            files
        )

    for row in rows:
        model = keras.models.load_model(
            full_tiny_study["runs"] / "cifar10" / row["run"] / "model.keras"
        )
        train, train_count = accuracy_of(model, full_tiny_study["cifar"] / "train", 5)
        test, test_count = accuracy_of(model, full_tiny_study["cifar"] / "test", 1)
        assert (
            (row["train_images"], row["test_images"])
            == (train_count, test_count)
            == (10, 20)
        )
        assert row["train_accuracy"] == pytest.approx(train)
        assert row["test_accuracy"] == pytest.approx(test)
        assert row["gap"] == pytest.approx(train - test)


def test_stability_and_faithfulness_cifar10(full_tiny_study):
    stability = _read(full_tiny_study, "stability_cifar10.json")
    assert stability["paper"] == {"abn": 0.29, "lficam": 0.60}
    assert stability["stability"]["abn"]["models"] == ["abn-s0-e1-i16", "abn-s1-e1-i16"]
    faithfulness = _read(full_tiny_study, "faithfulness_cifar10.json")
    assert faithfulness["image_size"] == [16, 16] and len(faithfulness["rows"]) == 5


def test_shipped_checkpoints(full_tiny_study, monkeypatch):
    import lficam_tf
    from lficam_tf import presets

    data = _read(full_tiny_study, "shipped.json")
    folder = full_tiny_study["results"] / "weights"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert data["manifest"] == manifest
    assert sorted(entry["head"] for entry in manifest.values()) == [
        "abn",
        "baseline",
        "lficam",
    ]
    # The files load by name, and give the accuracies the manifest states.
    monkeypatch.setattr(presets, "PRETRAINED_DIR", folder)
    test_dir = full_tiny_study["cifar"] / "test"
    for name, entry in manifest.items():
        assert (folder / name).stat().st_size == entry["bytes"]
        model = lficam_tf.build_model(
            "cifar_resnet20", 10, head=entry["head"], weights="cifar10"
        )
        accuracy, count = studylib.folder_accuracy(model, test_dir)
        assert (accuracy, count) == (entry["test_accuracy"], 20)
        assert entry["slice"]["images"] == 2
    # --tiny ships into the results folder, never into the package.
    assert pathlib.Path(data["weights_dir"]).resolve() == folder.resolve()


def test_tables(full_tiny_study):
    import tables

    text = full_tiny_study["tables"].read_text()
    # fin_width.py is not part of run_study.py: its table is pending here
    # (test_fin_width_comparisons_on_shapes writes it).
    fin_pending = tables.pending("fin-width")
    assert text.count(fin_pending) == 1
    assert "_Pending" not in text.replace(fin_pending, "")
    assert "Size: tiny" in text
    assert "| LFI-CAM | 1 |" in text
    assert "Grad-CAM on the LFI-CAM models" in text
    assert "| `lficam` |" in text  # The shipped checkpoints.
    # fit_check.py's table (run by run_study.py), one row per accuracy run.
    fit = text.split("| run | training images | test images | gap |")[1].split("\n\n")[
        0
    ]
    assert fit.count("-s0-e1-i16` |") == 3


def test_rerun_redoes_nothing(full_tiny_study):
    runs, results = full_tiny_study["before_rerun"]
    # 10 runs; 2 stability, 2 scoring reports, 3 weights files + manifest.
    assert len(runs) == 10 and len(results) == 8
    assert _metrics_times(full_tiny_study["runs"]) == runs
    assert _expensive_results(full_tiny_study["results"]) == results


def test_unpack_cifar10(tmp_path):
    import tarfile

    shared = tmp_path / "shared"
    shared.mkdir()
    for split in ("train", "test"):
        source = tmp_path / "src" / split / "cat"
        source.mkdir(parents=True)
        (source / "0001.jpg").write_bytes(b"jpeg")
        with tarfile.open(shared / f"cifar10_jpeg_{split}.tar.gz", "w:gz") as tar:
            tar.add(tmp_path / "src" / split, arcname=split)
    folder = studylib.unpack_cifar10(shared, tmp_path / "cache")
    assert (folder / "train" / "cat" / "0001.jpg").read_bytes() == b"jpeg"
    assert (folder / "test" / "cat" / "0001.jpg").is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["cifar10_jpeg"]
    shutil.rmtree(shared)  # Unpacked once: the archives are not needed again.
    assert studylib.unpack_cifar10(shared, tmp_path / "cache") == folder
    with pytest.raises(FileNotFoundError, match="--shared-data DIR"):
        studylib.unpack_cifar10(shared, tmp_path / "other")


def test_write_json_keeps_a_file_whose_results_did_not_change(tmp_path):
    path = tmp_path / "result.json"
    studylib.write_json(path, {"updated": "t1", "script_seconds": 5.0, "value": 1})
    studylib.write_json(path, {"updated": "t2", "script_seconds": 0.1, "value": 1})
    assert json.loads(path.read_text()) == {
        "updated": "t1",
        "script_seconds": 5.0,
        "value": 1,
    }
    studylib.write_json(path, {"updated": "t3", "script_seconds": 0.2, "value": 2})
    assert json.loads(path.read_text())["updated"] == "t3"
    assert json.loads(path.read_text())["value"] == 2


def test_replace_block():
    text = "a\n<!-- t:begin -->\nold\n<!-- t:end -->\nb\n"
    assert studylib.replace_block(text, "t", "new") == (
        "a\n<!-- t:begin -->\nnew\n<!-- t:end -->\nb\n"
    )
    with pytest.raises(ValueError, match="<!-- u:begin -->"):
        studylib.replace_block(text, "u", "x")


def test_fin_width_comparisons_on_shapes(shapes_study):
    """fin_width.py: paper FIN vs narrow FIN, two seeds each; every number
    checked against numpy on the same models' maps and predictions."""
    import fin_width
    import keras

    from lficam_tf.explain import explain

    study = shapes_study["study"]
    chosen = [c for c in fin_width.COMPARISONS if c.dataset == "shapes"]
    specs = [s for c in chosen for arm in c.specs(study.size).values() for s in arm]
    names = {s.name for s in specs}
    # Names say the backbone and width where they differ from the recipe's.
    assert {
        "lficam-s0-e1-i32",
        "lficam-s1-e1-i32-w16",
        "lficam-s0-e1-i64-mobilenetv2-wfull",
        "lficam-s1-e1-i64-mobilenetv2-w80",
    } <= names
    _fake_study(study, specs)
    assert fin_width.main(["--only", "shapes", *shapes_study["common"]]) == 0
    data = _read(shapes_study, "fin_width.json")
    assert sorted(data["comparisons"]) == ["shapes_mobilenetv2", "shapes_resnet20"]
    comp = data["comparisons"]["shapes_mobilenetv2"]
    assert comp["arms"]["full"]["fin_width"] is None
    assert comp["arms"]["narrow"]["fin_width"] == 80
    images, labels, masks, _ = studylib.test_images(
        study, "shapes", comp["image_size"], study.size.stability_images
    )
    arm_maps = {}
    for arm, arm_specs in chosen[1].specs(study.size).items():
        arm_maps[arm] = []
        for spec, run in zip(arm_specs, comp["arms"][arm]["runs"]):
            model = studylib.load_run_model(study, spec)
            maps = np.asarray(explain(model, images).maps, np.float64)
            arm_maps[arm].append(maps)
            # Energy pointing game: the map's share inside the object mask.
            total = maps.sum(axis=(1, 2))
            energy = np.where(
                total > 0, (maps * masks).sum(axis=(1, 2)) / np.maximum(total, 1e-30), 0
            )
            np.testing.assert_allclose(
                run["energy_pointing_game"], energy.mean(), rtol=1e-4
            )
            # Average Drop: mean of max(0, Y - O) / Y for the predicted class,
            # O on the image times its map.
            n = comp["average_drop_images"]
            full = keras.ops.softmax(model(images[:n])["logits"]).numpy()
            masked = keras.ops.softmax(
                model(images[:n] * maps[:n, :, :, None].astype("float32"))["logits"]
            ).numpy()
            target = full.argmax(axis=1)
            y, o = full[np.arange(n), target], masked[np.arange(n), target]
            np.testing.assert_allclose(
                run["average_drop"],
                100 * np.mean(np.maximum(0, y - o) / y),
                rtol=1e-3,
                atol=1e-4,
            )
        a, b = (255 * m > fin_width.THRESHOLD for m in arm_maps[arm])
        union = (a | b).sum(axis=(1, 2))
        iou = np.where(union > 0, (a & b).sum(axis=(1, 2)) / np.maximum(union, 1), 1.0)
        np.testing.assert_allclose(
            comp["arms"][arm]["stability_iou"], iou.mean(), rtol=1e-5
        )
    diff = comp["narrow_minus_full"]["stability_iou"]
    arms = comp["arms"]
    assert diff == pytest.approx(
        arms["narrow"]["stability_iou"] - arms["full"]["stability_iou"]
    )
    assert (
        shapes_study["results"] / "figures" / "fin_width_shapes_mobilenetv2.png"
    ).is_file()

    import tables

    out = shapes_study["results"].parent / "RESULTS_fin.md"
    out.write_text("<!-- fin-width:begin -->\n<!-- fin-width:end -->\n")
    block = tables.fin_width_block(shapes_study["results"], out)
    assert "bottleneck, width 80" in block and "paper (K -> K)" in block
    assert block.count("narrow − paper") == 2
    with pytest.raises(SystemExit):
        fin_width.main(["--only", "nothing", *shapes_study["common"]])
