"""A finished run read back from its folder: `load_run`.

`train` returns a `TrainResult` once; `load_run` gives the same back later,
from the files the run wrote (see `lficam_tf.training.run_dir`):
config.json, metrics.json, training_log.csv and model.keras.
"""

import csv
import json
import os
import pathlib

from lficam_tf.api_export import lficam_export
from lficam_tf.training.run_dir import RunDir


@lficam_export("lficam_tf.training.load_run")
def load_run(run_dir, *, load_model=True, compile=True):
    """A finished training run, read back from its folder.

    What `train` returned for the run, from its files: the configuration
    (config.json), the final numbers (metrics.json), the per-epoch logs of
    every call (training_log.csv) and the final model (model.keras). A run
    is finished when its metrics.json exists; an unfinished one (killed)
    is refused, since `train(resume=run_dir)` finishes it.

    Args:
        run_dir: str or `pathlib.Path`. The run's folder
            (`TrainResult.output_dir`, `train_tf.py --output-dir`).
        load_model: bool. Load model.keras. With `False`, only the
            configuration, numbers and logs are read (no Keras model is
            loaded, `model` is None). Defaults to `True`.
        compile: bool. Compile the loaded model as it was trained (its
            optimizer, losses and metrics), as `keras.saving.load_model`
            does. Defaults to `True`.

    Returns:
        A `TrainResult`: `config` (the `TrainConfig` of config.json),
        `output_dir` (`pathlib.Path`), `metrics` (dict, metrics.json),
        `model` (`keras.Model`, or None with `load_model=False`) and
        `history` (training_log.csv as `{column: [one value per epoch]}`,
        every epoch of every call of a resumed run; `{}` without the file).

    Raises:
        TypeError: `run_dir` is not a path.
        FileNotFoundError: `run_dir` does not exist, or a finished run
            lacks model.keras.
        ValueError: `run_dir` is not a run's folder (no config.json), or
            its run is unfinished (no metrics.json).
        ConfigError: config.json is not a readable configuration.

    Example:

    >>> from lficam_tf.training import load_run, train
    >>> result = train(epochs=1, num_train=64, num_test=32,
    ...                output_dir="/tmp/quick")              # doctest: +SKIP
    >>> run = load_run("/tmp/quick")                         # doctest: +SKIP
    >>> run.metrics == result.metrics, run.config == result.config  # doctest: +SKIP
    (True, True)
    >>> run.model(images)["logits"]                          # doctest: +SKIP
    """
    if not isinstance(run_dir, (str, os.PathLike)):
        raise TypeError(
            "`run_dir` must be a path (str or pathlib.Path). "
            f"Received: run_dir={run_dir!r} of type {type(run_dir).__name__}"
        )
    run = RunDir(run_dir)
    if not run.path.is_dir():
        raise FileNotFoundError(
            "`run_dir` must be the folder of a run of `train`. "
            f"Received: run_dir={str(run_dir)!r}, which does not exist."
        )
    if not run.started:
        raise ValueError(
            "`run_dir` must be the folder of a run of `train` (with config.json). "
            f"Received: run_dir={str(run_dir)!r}, which has no config.json."
        )
    if not run.finished:
        raise ValueError(
            "`run_dir` must be a finished run (with metrics.json). Received: "
            f"run_dir={str(run_dir)!r}, an unfinished run (interrupted, or "
            f"still training). `train(resume={str(run_dir)!r})` finishes it."
        )
    from lficam_tf.training.trainer import TrainResult

    model = None
    if load_model:
        if not run.model.is_file():
            raise FileNotFoundError(
                f"The finished run {str(run_dir)!r} has no model.keras: it was "
                "moved or deleted. Train the run again into a new folder."
            )
        import keras

        import lficam_tf.models  # noqa: F401  Registers the model classes.

        model = keras.saving.load_model(run.model, compile=compile)
    return TrainResult(
        config=run.saved_config(),
        output_dir=run.path,
        metrics=json.loads(run.metrics.read_text()),
        model=model,
        history=read_history(run.csv_log),
    )


def read_history(path):
    """training_log.csv as `{column: [value per epoch]}`, without `epoch`
    (the shape of Keras' `History.history`); `{}` without the file."""
    path = pathlib.Path(path)
    if not path.is_file():
        return {}
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    columns = [name for name in (rows[0] if rows else {}) if name != "epoch"]
    return {name: [_number(row[name]) for row in rows] for name in columns}


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return text
