"""A run whose loss turns NaN stops: exit status 1, a message naming the
epoch and what to try, nothing exported, the last good checkpoint kept."""

import json

import numpy as np
import pytest

from lficam_tf.training import TrainingDiverged, callbacks, fitting, get_preset
from lficam_tf.training.cli import main


class _PoisonAt(callbacks.keras.callbacks.Callback):
    """Set one weight to NaN at the start of the given (0-based) epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            variable = self.model.trainable_variables[0]
            variable.assign(np.full(variable.shape, np.nan, "float32"))


def test_the_guard_raises_before_the_epoch_is_written(tmp_path):
    guard = callbacks.StopOnNonFiniteLoss(tmp_path, "Try a lower learning rate.")
    guard.on_epoch_begin(0)
    guard.on_train_batch_end(0, {"loss": 2.3})
    guard.on_epoch_begin(2)
    with pytest.raises(TrainingDiverged) as caught:
        guard.on_train_batch_end(4, {"loss": float("inf")})
    message = str(caught.value)
    assert "became inf at step 5 of epoch 3" in message
    assert f"checkpoint of epoch 2, the last good one, is kept in {tmp_path}" in message
    assert message.endswith("Try a lower learning rate.")
    assert caught.value.epoch == 3
    first = callbacks.StopOnNonFiniteLoss(tmp_path)
    first.on_epoch_begin(0)
    with pytest.raises(TrainingDiverged, match="No epoch had finished"):
        first.on_epoch_end(0, {"loss": float("nan")})


@pytest.mark.slow
def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(
    tmp_path, monkeypatch, capsys
):
    make_callbacks = fitting.make_callbacks

    def poisoned(*args, **kwargs):
        made, best, throughput = make_callbacks(*args, **kwargs)
        return [_PoisonAt(1), *made], best, throughput

    monkeypatch.setattr(fitting, "make_callbacks", poisoned)
    out = tmp_path / "run"
    status = main(
        [
            "--num-train", "64", "--num-test", "32", "--batch-size", "32",
            "--image-size", "32", "--epochs", "3", "--attention-images", "0",
            "--verbose", "0", "--threads", "tf", "--output-dir", str(out),
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 1, err
    assert err.startswith("train_tf.py: error: The training loss became nan")
    rate = get_preset("shapes")["learning_rate"]
    assert "of epoch 2:" in err and f"--learning-rate {rate / 10:g}" in err
    assert "Traceback" not in err
    # Nothing exported, the run not finished ...
    for name in ("metrics.json", "model.keras", "serving", "attention.png"):
        assert not (out / name).exists(), name
    # ... and every file stops at epoch 1, the last good one.
    metadata = json.loads((out / "checkpoints" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 1
    rows = (out / "training_log.csv").read_text().splitlines()
    assert len(rows) == 2, rows  # the header and epoch 1
    assert json.loads((out / "best.json").read_text())["best_epoch"] == 1
