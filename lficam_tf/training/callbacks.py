"""Keras callbacks of a training run (beside Keras' own CSVLogger,
TensorBoard and BackupAndRestore).

- `BestModelCheckpoint`: keeps `best.keras`, the model of the best test
  accuracy (the authors report the best test accuracy over all epochs),
  written atomically, with its accuracy and epoch in `best.json`, and picks
  up where it was after a resume. Keras' `ModelCheckpoint` writes in place
  (a kill mid-write leaves a broken file) and forgets its best value when a
  run resumes.
  A new best waits under a pending name until its epoch's checkpoint is
  written (`PromoteBest`), so a kill in between keeps no model of an epoch
  the resumed run repeats.
- `AttentionImages`: overlays of the model's maps on fixed test images,
  written to TensorBoard (`tf.summary.image`) after every epoch, so a user
  watches the maps form; with masks, their energy-based pointing game too.
- `Throughput`: training images per second per epoch.
- `StopOnNonFiniteLoss`: Keras' `TerminateOnNaN`, raising an error that
  names the epoch and what to try before the epoch's files are written, so
  a diverged run exports nothing and keeps its last good checkpoint.
- `RestoreOnly`: `BackupAndRestore` that restores and never writes, for the
  non-chief workers of a multi-worker run.
"""

import json
import math
import time

import keras
import numpy as np
import tensorflow as tf

from lficam_tf.explain import explain_with, get_explainer, overlay
from lficam_tf.metrics import energy_pointing_game
from lficam_tf.models.outputs import LOGITS, native_method
from lficam_tf.training.errors import TrainingDiverged
from lficam_tf.training.run_dir import (
    atomic_save_model,
    atomic_write_text,
    promote_pending_best,
)


def accuracy_key(logs, validation=True):
    """The key of the (test) accuracy in Keras logs, or None.

    `"val_logits_accuracy"` for models with several outputs, `"val_accuracy"`
    for the baseline (Keras names single-output metrics without the output).
    """
    prefix = "val_" if validation else ""
    for key in (f"{prefix}{LOGITS}_accuracy", f"{prefix}accuracy"):
        if key in (logs or {}):
            return key
    return None


def map_method(model):
    """`"native"` for models with their own map (`native_method`), else Grad-CAM."""
    return "native" if native_method(model) is not None else "gradcam"


class BestModelCheckpoint(keras.callbacks.Callback):
    """Save the model whenever its test accuracy is the best so far.

    Args:
        model_path: path of the `.keras` file (`best.keras`).
        state_path: path of the JSON state (`best.json`): `best_accuracy`
            and `best_epoch` (1-based), read back when a run resumes.
        save: bool. False for processes that must not write (non-chief
            workers); the state is still tracked. Defaults to `True`.
        pending: `(model_path, state_path)` or None. Where a new best is
            written instead, for `PromoteBest` to move in place once the
            epoch's checkpoint is written (so that a kill in between leaves
            no best model of an epoch the resumed run repeats). Defaults to
            `None` (written in place).
    """

    def __init__(self, model_path, state_path, save=True, pending=None):
        super().__init__()
        self.model_path = model_path
        self.state_path = state_path
        self.save = save
        self.pending = pending
        self.best_accuracy = None
        self.best_epoch = None

    def on_train_begin(self, logs=None):
        try:
            with open(self.state_path) as file:
                state = json.load(file)
        except FileNotFoundError:
            return
        self.best_accuracy = state["best_accuracy"]
        self.best_epoch = state["best_epoch"]

    def on_epoch_end(self, epoch, logs=None):
        key = accuracy_key(logs)
        if key is None:
            return
        value = float(logs[key])
        if self.best_accuracy is not None and value <= self.best_accuracy:
            return
        self.best_accuracy, self.best_epoch = value, epoch + 1
        if self.save:
            model_path, state_path = self.pending or (self.model_path, self.state_path)
            atomic_save_model(self.model, model_path)
            atomic_write_text(
                state_path,
                json.dumps({"best_accuracy": value, "best_epoch": epoch + 1}, indent=2),
            )


class PromoteBest(keras.callbacks.Callback):
    """After the epoch's checkpoint: the pending best model takes its place.

    Placed after `BackupAndRestore`, so `best.keras` / `best.json` only ever
    hold a checkpointed epoch (`run_dir.promote_pending_best`).

    Args:
        run: the `RunDir`.
    """

    def __init__(self, run):
        super().__init__()
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        promote_pending_best(self.run)


class AttentionImages(keras.callbacks.Callback):
    """Write the maps of fixed test images to TensorBoard after each epoch.

    Each image is the test image with the model's map overlaid (jet, as in
    `lficam_tf.explain.overlay`); TensorBoard's slider steps through the
    epochs. With object masks, the maps' mean energy-based pointing game on
    these images is written as the scalar `attention/energy_pointing_game`.

    Args:
        images: float32 `(num_images, height, width, 3)`, RGB in 0..255.
        log_dir: the TensorBoard folder; images go to its `images` run.
        masks: bool `(num_images, height, width)` or None.
    """

    def __init__(self, images, log_dir, masks=None):
        super().__init__()
        self.images = np.asarray(images, "float32")
        self.masks = masks
        self.log_dir = str(log_dir)
        self._writer = None
        self._explainer = None

    def _write(self, step):
        if self._explainer is None:
            self._explainer = get_explainer(self.model, map_method(self.model))
            self._writer = tf.summary.create_file_writer(self.log_dir + "/images")
        maps = explain_with(self._explainer, self.images).maps
        with self._writer.as_default(step=step):
            tf.summary.image(
                "attention/test_images",
                overlay(self.images, maps).astype("float32") / 255.0,
                max_outputs=len(self.images),
            )
            if self.masks is not None:
                tf.summary.scalar(
                    "attention/energy_pointing_game",
                    float(np.mean(energy_pointing_game(maps, masks=self.masks))),
                )
        self._writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        if len(self.images):
            self._write(epoch + 1)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()


class Throughput(keras.callbacks.Callback):
    """Training images per second of each epoch (training steps only).

    Timed from the first batch's end to the last batch's end, so neither
    tracing the step function nor evaluation counts.

    Args:
        batch_size: int. Global batch size.
    """

    def __init__(self, batch_size):
        super().__init__()
        self.batch_size = batch_size
        self.per_epoch = []
        self._first = None
        self._last = None
        self._batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._first, self._last, self._batches = None, None, 0

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self._first is None:
            self._first = now
        else:
            self._batches += 1
        self._last = now

    def on_epoch_end(self, epoch, logs=None):
        if self._batches and self._last > self._first:
            rate = self._batches * self.batch_size / (self._last - self._first)
            self.per_epoch.append(rate)
            if logs is not None:
                logs["images_per_second"] = rate

    @property
    def images_per_second(self):
        """The median over epochs, or None before an epoch of 2+ batches."""
        return float(np.median(self.per_epoch)) if self.per_epoch else None


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop the run with `TrainingDiverged` once its loss is inf or NaN.

    Keras' `TerminateOnNaN` sets `stop_training`, after which the epoch
    still ends: its CSV row, best model and checkpoint are written from a
    model of NaNs, and the run goes on to export it. This callback raises
    instead, from the batch where the loss turned, so that none of the
    epoch's files are written and the checkpoint of the last good epoch
    stays. Put it first in the list.

    Args:
        checkpoints: the run's checkpoint folder, named in the message.
        hint: str. What to try, for the message (the configuration's
            learning rate, mixed precision, ...).
    """

    def __init__(self, checkpoints, hint=""):
        super().__init__()
        self.checkpoints = checkpoints
        self.hint = hint
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check((logs or {}).get("loss"), f"step {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self._check((logs or {}).get("loss"), "the end")

    def _check(self, loss, where):
        if loss is None or math.isfinite(float(loss)):
            return
        epoch = self._epoch + 1
        if self._epoch:
            kept = (
                f"The checkpoint of epoch {self._epoch}, the last good one, is "
                f"kept in {self.checkpoints} (rerunning the same command resumes "
                "from it, with the same settings)"
            )
        else:
            kept = "No epoch had finished, so there is no checkpoint"
        raise TrainingDiverged(
            f"The training loss became {float(loss)} at {where} of epoch {epoch}: "
            "the model diverged, so the run stopped and nothing was exported. "
            f"{kept}. {self.hint}".rstrip(),
            epoch=epoch,
        )


class RestoreOnly(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that restores the checkpoint but never writes one.

    The non-chief workers of a multi-worker run restore the chief's
    checkpoint when the run resumes; only the chief writes it. (Keras'
    `save_freq=False` would save after every batch instead.)
    """

    def _save_model(self):
        pass

    def on_train_end(self, logs=None):
        pass
