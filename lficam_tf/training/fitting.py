"""The fit loop of a run: its callbacks, resuming, `model.fit`.

`make_callbacks` gives the run's callbacks in the order that makes a kill
safe: the chief's `BackupAndRestore` comes last, so that an epoch counts as
done only once the best model, the CSV and TensorBoard logs and the time so
far are written. The other workers track the best accuracy and restore the
chief's checkpoint, writing nothing. `fit` runs `model.fit`, or the custom
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
    best = callbacks_lib.BestModelCheckpoint(run.best_model, run.best_state, save=chief)
    callbacks = [throughput]
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
            # Last: an epoch counts as done only once everything above is written.
            keras.callbacks.BackupAndRestore(
                str(run.checkpoints), double_checkpoint=True, delete_checkpoint=False
            ),
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
