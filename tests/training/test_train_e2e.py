"""`python train_tf.py` end to end at a reduced size: the output contract,
with the numbers in metrics.json recomputed independently."""

import csv
import glob
import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from lficam_tf.data import load_data
from lficam_tf.training.trainer import make_config

REPO = pathlib.Path(__file__).resolve().parents[2]
SMALL = [
    "--num-train",
    "96",
    "--num-test",
    "40",
    "--epochs",
    "2",
    "--batch-size",
    "32",
    "--image-size",
    "32",
]


def run_script(args, cwd, timeout=600):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, str(REPO / "train_tf.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def summaries(folder):
    """{tag: {step: value or list of images}} from a TensorBoard folder."""
    found = {}
    for path in glob.glob(str(folder / "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tensor = (
                    tf.make_ndarray(value.tensor) if value.HasField("tensor") else None
                )
                found.setdefault(value.tag, {})[event.step] = tensor
    return found


def numpy_energy_pointing_game(attention, masks):
    """The metric by hand: bilinear up-sampling, min-max, mass inside the mask."""
    maps = tf.image.resize(attention, masks.shape[1:3], method="bilinear").numpy()[
        ..., 0
    ]
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    maps = np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0)
    inside = (maps * masks).sum(axis=(1, 2))
    total = maps.sum(axis=(1, 2))
    return np.where(total > 0, inside / np.where(total > 0, total, 1), 0).mean()


@pytest.mark.slow
def test_default_job_reduced(tmp_path):
    out = tmp_path / "run"
    done = run_script(SMALL + ["--output-dir", str(out)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "test accuracy" in done.stdout and "energy pointing game" in done.stdout

    # --- the files ---
    for name in (
        "config.json",
        "model.keras",
        "best.keras",
        "best.json",
        "attention.png",
        "metrics.json",
        "training_log.csv",
        "serving/1/saved_model.pb",
    ):
        assert (out / name).is_file(), name
    for name in ("tensorboard/train", "tensorboard/validation", "tensorboard/images"):
        assert (out / name).is_dir(), name
    assert not (out / "checkpoints").exists()  # removed once finished
    assert not [p for p in out.rglob("*") if "partial" in p.name]
    assert (out / "attention.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    config = json.loads((out / "config.json").read_text())
    expected = make_config(
        num_train=96,
        num_test=40,
        epochs=2,
        batch_size=32,
        image_size=32,
        output_dir=str(out),
    )
    assert config == expected.to_dict()

    metrics = json.loads((out / "metrics.json").read_text())
    for key in (
        "test_accuracy",
        "energy_pointing_game",
        "mask_fraction",
        "epochs",
        "wall_seconds",
        "best_test_accuracy",
        "best_epoch",
        "train_images_per_second",
    ):
        assert metrics[key] is not None, key
    assert metrics["epochs"] == 2 and metrics["map_method"] == "lficam"
    assert 0 < metrics["wall_seconds"] < 600

    # --- the numbers, recomputed ---
    bundle = load_data("shapes", image_size=32, num_train=96, num_test=40, seed=0)
    images = np.stack([x.numpy() for x, _ in bundle.test])
    labels = np.array([int(y) for _, y in bundle.test])
    model = keras.models.load_model(out / "model.keras")
    outputs = model.predict(images, batch_size=16, verbose=0)
    accuracy = np.mean(outputs["logits"].argmax(-1) == labels)
    assert metrics["test_accuracy"] == pytest.approx(accuracy, abs=1e-9)
    assert metrics["mask_fraction"] == pytest.approx(bundle.test_masks.mean(), abs=1e-9)
    assert metrics["energy_pointing_game"] == pytest.approx(
        numpy_energy_pointing_game(outputs["attention"], bundle.test_masks), abs=1e-4
    )

    with open(out / "training_log.csv") as log:
        rows = list(csv.DictReader(log))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    val_accuracy = [float(row["val_logits_accuracy"]) for row in rows]
    assert val_accuracy[-1] == pytest.approx(accuracy, abs=1e-6)
    best = json.loads((out / "best.json").read_text())
    assert best["best_accuracy"] == pytest.approx(max(val_accuracy), abs=1e-6)
    assert (
        best["best_epoch"] == int(np.argmax(val_accuracy)) + 1 == metrics["best_epoch"]
    )
    best_model = keras.models.load_model(out / "best.keras")
    best_logits = best_model.predict(images, batch_size=16, verbose=0)["logits"]
    # best_test_accuracy is the best epoch's Keras validation metric, a
    # float32 (0.2 is stored as 0.20000000298...).
    assert np.mean(best_logits.argmax(-1) == labels) == pytest.approx(
        metrics["best_test_accuracy"], abs=1e-6
    )

    # --- the TF Serving export answers like the Keras model ---
    serve = tf.saved_model.load(str(out / "serving" / "1")).signatures[
        "serving_default"
    ]
    served = serve(images=tf.constant(images[:8]))
    np.testing.assert_allclose(
        served["probabilities"].numpy(),
        tf.nn.softmax(outputs["logits"][:8]).numpy(),
        atol=1e-5,
    )

    # --- TensorBoard: scalars per epoch, attention overlays of fixed images ---
    images_run = summaries(out / "tensorboard" / "images")
    assert set(images_run["attention/test_images"]) == {1, 2}
    # An image summary holds width, height and one PNG per image.
    assert len(images_run["attention/test_images"][2]) == 2 + 16
    assert set(images_run["attention/energy_pointing_game"]) == {1, 2}
    validation = summaries(out / "tensorboard" / "validation")
    assert any("accuracy" in tag for tag in validation)
    assert any("loss" in tag for tag in summaries(out / "tensorboard" / "train"))
