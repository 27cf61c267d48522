"""The fit loop of a run: its callbacks, resuming, `model.fit`.

`make_callbacks` gives the run's callbacks in the order that makes a kill
safe: the chief's `BackupAndRestore` comes after the others, so that an
epoch counts as done only once the best model, the CSV and TensorBoard logs
and the time so far are written; a new best model waits under a pending
name until then (`PromoteBest`, last), and a resume drops what a kill left
of a lost epoch (`run_dir.agree_with_checkpoint`). A loss of inf or NaN
stops the run first (`StopOnNonFiniteLoss`). The other workers track the
best accuracy and restore the chief's checkpoint, writing nothing. `fit` runs `model.fit`, or the custom
loop of `lficam_tf.training.multiworker` under
`MultiWorkerMirroredStrategy`. A resumed run picks up where its checkpoint
is (`completed_epochs`), through `BackupAndRestore`.
"""

import json
import time

import keras

from lficam_tf.training import callbacks as callbacks_lib
from lficam_tf.training import multiworker
from lficam_tf.training import run_dir as run_dir_lib
from lficam_tf.training.strategy import is_multi_worker


def completed_epochs(run):
    """The epochs the run's checkpoint holds (0 without a checkpoint)."""
    path = run.checkpoints / "training_metadata.json"
    try:
        return int(json.loads(path.read_text())["epoch"])
    except (FileNotFoundError, ValueError, KeyError):
        return 0


def divergence_hint(config):
    """What to try when the loss of a run of `config` turns inf or NaN."""
    tries = [
        f"a lower learning rate (--learning-rate {config.learning_rate / 10:g}; "
        f"it is {config.learning_rate:g})"
    ]
    if config.mixed_precision == "float16":
        tries.append("float32 or bfloat16 instead of --mixed-precision float16")
    if config.warmup_epochs == 0 and config.schedule == "cosine":
        tries.append("a warm-up (--warmup-epochs 1)")
    return (
        "Try "
        + ", or ".join(tries)
        + ", in a new run (another --output-dir, or none for a fresh folder)."
    )


def make_callbacks(config, run, chief, shown, start):
    """The run's callbacks.

    Args:
        config: the `TrainConfig`.
        run: the `RunDir`.
        chief: bool. Whether this process writes the run's files.
        shown: `(images, labels, masks)` of the test images whose maps go to
            TensorBoard, or None.
        start: `time.perf_counter()` value the run's wall time counts from.

    Returns:
        `(callbacks, best, throughput)`: the list for `fit`, and its
        `BestModelCheckpoint` and `Throughput`, read when the run finishes.
    """
    throughput = callbacks_lib.Throughput(config.batch_size)
    best = callbacks_lib.BestModelCheckpoint(
        run.best_model,
        run.best_state,
        save=chief,
        pending=(run.pending_best_model, run.pending_best_state),
    )
    # First: a loss of inf or NaN stops the run before any file of its epoch.
    callbacks = [
        callbacks_lib.StopOnNonFiniteLoss(run.checkpoints, divergence_hint(config)),
        throughput,
    ]
    if chief:
        if shown is not None:
            callbacks.append(
                callbacks_lib.AttentionImages(shown[0], run.tensorboard, masks=shown[2])
            )
        callbacks += [
            best,
            keras.callbacks.CSVLogger(str(run.csv_log), append=True),
            keras.callbacks.TensorBoard(
                str(run.tensorboard), write_graph=False, profile_batch=0
            ),
            # The time so far, for a resume after a kill.
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: run_dir_lib.save_wall_seconds(
                    run, time.perf_counter() - start
                )
            ),
            # An epoch counts as done only once everything above is written.
            keras.callbacks.BackupAndRestore(
                str(run.checkpoints), double_checkpoint=True, delete_checkpoint=False
            ),
            # Then its best model, if new, takes the place of the old one.
            callbacks_lib.PromoteBest(run),
        ]
    else:
        callbacks += [best, callbacks_lib.RestoreOnly(str(run.checkpoints))]
    return callbacks, best, throughput


def fit(
    model,
    strategy,
    config,
    train_data,
    test_data,
    steps_per_epoch,
    callbacks,
    losses,
    verbose,
):
    """Train `model` for `config.epochs` (from its checkpoint, if any).

    Returns:
        The `keras.callbacks.History` of this call.
    """
    if is_multi_worker(strategy):
        return multiworker.fit_multi_worker(
            model,
            strategy,
            train_data,
            test_data,
            config.epochs,
            steps_per_epoch,
            callbacks,
            losses,
            verbose=verbose,
        )
    return model.fit(
        train_data,
        validation_data=test_data,
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # The pipeline shuffles.
    )
