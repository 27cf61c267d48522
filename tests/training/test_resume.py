"""`kill -9` in the middle of a run, then the same command: it resumes from
the last epoch's checkpoint and finishes."""

import csv
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import keras
import pytest

import lficam_tf  # noqa: F401  (registers the model classes for load_model)

REPO = pathlib.Path(__file__).resolve().parents[2]
ARGS = [
    "--num-train",
    "256",
    "--num-test",
    "32",
    "--epochs",
    "4",
    "--batch-size",
    "32",
    "--image-size",
    "32",
    "--verbose",
    "2",
    "--attention-images",
    "4",
]
STEPS_PER_EPOCH = 256 // 32


def _command():
    return [sys.executable, str(REPO / "train_tf.py"), *ARGS]


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))


def _completed_epoch(runs):
    for path in runs.glob("*/checkpoints/training_metadata.json"):
        try:
            return json.loads(path.read_text())["epoch"]
        except (ValueError, KeyError):  # being written
            return None
    return None


@pytest.mark.slow
def test_sigkill_then_same_command_resumes(tmp_path):
    runs = tmp_path / "runs"
    first = subprocess.Popen(
        _command(),
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 500
    try:
        while (_completed_epoch(runs) or 0) < 1:
            assert first.poll() is None, (
                f"finished before the kill: {first.stderr.read()[-2000:]}"
            )
            assert time.monotonic() < deadline, "no checkpoint after 500 s"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
        first.stderr.close()
    assert first.returncode == -signal.SIGKILL

    (run,) = list(runs.iterdir())
    killed_at = _completed_epoch(runs)
    assert 1 <= killed_at < 4
    # Killed: clearly unfinished, nothing of the final outputs.
    assert (run / "config.json").is_file()
    for name in ("metrics.json", "model.keras", "serving", "attention.png"):
        assert not (run / name).exists(), name
    # The time so far is kept at every epoch's end, for wall_seconds.
    earlier = json.loads((run / "checkpoints" / "wall_seconds.json").read_text())
    assert earlier["seconds"] > 0

    second = subprocess.run(
        _command(),
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"Resuming the unfinished run in runs/{run.name}" in second.stdout
    assert f"{killed_at} of 4 epochs done" in second.stdout
    # Keras starts counting at the first epoch not done.
    assert f"Epoch {killed_at + 1}/4" in second.stdout
    assert "Epoch 1/4" not in second.stdout
    assert list(runs.iterdir()) == [run]  # no second folder

    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 4
    assert metrics["wall_seconds"] > earlier["seconds"]  # both calls
    with open(run / "training_log.csv") as log:
        epochs = [int(row["epoch"]) for row in csv.DictReader(log)]
    # At most the epoch in flight at the kill is logged twice.
    assert sorted(set(epochs)) == [0, 1, 2, 3] and len(epochs) <= 5
    # The optimizer state came back with the weights: its step counter (which
    # also drives the learning-rate schedule) counts every epoch's steps.
    model = keras.models.load_model(run / "model.keras")
    assert int(model.optimizer.iterations.numpy()) == 4 * STEPS_PER_EPOCH
    assert not (run / "checkpoints").exists()


def test_resume_sums_the_calls_time_and_removes_leftovers(tmp_path, monkeypatch):
    """train() around its work (`_train`, stubbed: no TensorFlow training)."""
    from lficam_tf.training import run_dir, trainer

    out = tmp_path / "run"
    calls = []

    def work(config, strategy, run, resumed, chief, start):
        calls.append(resumed)
        if not resumed:
            run_dir.atomic_write_text(run.config, config.to_json())
            time.sleep(0.3)
            raise KeyboardInterrupt  # stopped in the middle of the run
        assert not leftover.exists() and not half_export.exists()
        time.sleep(0.1)
        return time.perf_counter() - start  # what metrics.json's wall_seconds is

    monkeypatch.setattr(trainer, "_train", work)
    options = dict(output_dir=str(out), threads="tf", epochs=2)
    with pytest.raises(KeyboardInterrupt):
        trainer.train(**options)
    # What a kill leaves behind (no clean-up ran).
    leftover = out / ".best.abcd.partial.keras"
    leftover.write_bytes(b"half a model")
    half_export = out / "serving" / ".1.partial-0a1b2c3d"
    half_export.mkdir(parents=True)
    begin = time.perf_counter()
    seconds = trainer.train(**options)
    second = time.perf_counter() - begin
    assert calls == [False, True]
    assert seconds >= 0.3 + 0.1 and seconds > second  # both calls


@pytest.mark.slow
def test_a_kill_between_the_csv_row_and_the_checkpoint(tmp_path, monkeypatch):
    """Epoch 2's CSV row and best model are written, then the process dies
    before its checkpoint: the resumed run repeats epoch 2, and every file
    agrees with the checkpoint (no duplicate row, no best model of the lost
    epoch)."""
    from lficam_tf.training import fitting
    from lficam_tf.training.callbacks import accuracy_key
    from lficam_tf.training.cli import main

    class EveryEpochIsTheBest(keras.callbacks.Callback):
        # So that the lost epoch writes a best model (the files are real;
        # only the accuracy that decides "best" is set).
        def on_epoch_end(self, epoch, logs=None):
            logs[accuracy_key(logs)] = 0.1 * (epoch + 1)

    class Killed(BaseException):
        pass

    def kill_before_checkpoint_of_epoch_2(self, epoch, logs=None):
        if epoch == 1:
            raise Killed  # where the process died
        return save(self, epoch, logs)

    save = keras.callbacks.BackupAndRestore.on_epoch_end
    make_callbacks = fitting.make_callbacks

    def with_accuracy(*args, **kwargs):
        made, best, throughput = make_callbacks(*args, **kwargs)
        return [EveryEpochIsTheBest(), *made], best, throughput

    monkeypatch.setattr(fitting, "make_callbacks", with_accuracy)
    out = tmp_path / "run"
    argv = [
        "--num-train", "64", "--num-test", "32", "--batch-size", "32",
        "--image-size", "32", "--epochs", "3", "--attention-images", "0",
        "--verbose", "0", "--threads", "tf", "--output-dir", str(out),
    ]  # fmt: skip
    monkeypatch.setattr(
        keras.callbacks.BackupAndRestore,
        "on_epoch_end",
        kill_before_checkpoint_of_epoch_2,
    )
    with pytest.raises(Killed):
        main(argv)
    assert _epochs_in_csv(out) == [0, 1]  # epoch 2's row is written ...
    # ... but best.json / best.keras still hold epoch 1, the checkpoint's.
    assert json.loads((out / "best.json").read_text())["best_epoch"] == 1
    monkeypatch.setattr(keras.callbacks.BackupAndRestore, "on_epoch_end", save)
    assert main(argv) == 0
    assert _epochs_in_csv(out) == [0, 1, 2]
    best = json.loads((out / "best.json").read_text())
    assert best["best_epoch"] == 3
    assert sorted(p.name for p in out.glob(".*")) == [".lock"]


def _epochs_in_csv(out):
    with open(out / "training_log.csv") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]
