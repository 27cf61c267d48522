"""`train`: one call from a configuration to a trained, evaluated, exported model.

    >>> from lficam_tf.training import train
    >>> result = train(epochs=1, num_train=64, num_test=32)   # doctest: +SKIP
    >>> result.metrics["test_accuracy"], result.output_dir    # doctest: +SKIP

This module resolves the configuration, owns the run's folder for the call
(lock, cleanup after a kill, one message for a folder that cannot be
written) and runs the steps, each in its own module:

- threads and devices (`strategy`);
- the data and its pipelines (`run_data`, on `lficam_tf.data`);
- the model, built and compiled under the strategy (`model_setup`);
- `model.fit` with the run's callbacks, or the custom loop of
  `multiworker` under `MultiWorkerMirroredStrategy` (`fitting`);
- on the final model, test accuracy and maps in one pass, the energy-based
  pointing game against the object masks, `attention.png`, `model.keras`,
  the TF Serving export and `metrics.json`, last (`finish`).

See `run_dir` for the output folder and how runs resume.
"""

import contextlib
import dataclasses
import pathlib
import shutil
import sys
import time

import keras

from lficam_tf.api_export import lficam_export
from lficam_tf.training import finish, fitting, model_setup, run_data
from lficam_tf.training import run_dir as run_dir_lib
from lficam_tf.training.config import (
    TrainConfig,
    make_config,  # noqa: F401 (importable here)
)
from lficam_tf.training.errors import ConfigError

# Imported from here by callers that predate the split into modules.
from lficam_tf.training.model_setup import (  # noqa: F401
    compile_model,
    make_optimizer,
)
from lficam_tf.training.strategy import (
    configure_threads,
    is_chief,
    is_multi_worker,
    select_strategy,
)


@lficam_export("lficam_tf.training.TrainResult")
@dataclasses.dataclass
class TrainResult:
    """What `train` returns, and `load_run` for a finished run's folder.

    Attributes:
        config: the resolved `TrainConfig` (also in `config.json`).
        output_dir: `pathlib.Path` of the run's folder.
        metrics: dict, the contents of `metrics.json` (None on the
            non-chief workers of a multi-worker run, which write nothing).
        model: the final `keras.Model` (also in `model.keras`; None from
            `load_run(..., load_model=False)`).
        history: dict of per-epoch logs of this call (`History.history`);
            a resumed run holds the epochs after the resume only (all epochs
            are in `training_log.csv`, which `load_run` gives here).
    """

    config: TrainConfig
    output_dir: pathlib.Path
    metrics: dict
    model: keras.Model
    history: dict


def _check_compatible(config, strategy):
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise ConfigError(
            f"`batch_size` must be a multiple of the {replicas} replicas, which "
            f"share each batch. Received: batch_size={config.batch_size}. Use "
            f"--batch-size {replicas * max(1, config.batch_size // replicas)}."
        )
    if is_multi_worker(strategy) and config.output_dir is None:
        raise ConfigError(
            "`output_dir` is needed with TF_CONFIG: every worker must use the same "
            "folder (on a shared file system) to resume from the chief's "
            "checkpoint. Pass the same --output-dir to each worker."
        )


def _say(chief, verbose, text):
    if chief and verbose != 0:
        print(text, flush=True)


@lficam_export("lficam_tf.training.train")
def train(config=None, *, resume=None, **overrides):
    """Train, evaluate and export an LFI-CAM model; the library's entry point.

    `python train_tf.py` calls this with its flags; in a notebook or script,
    call it with a `TrainConfig`, a preset name, or field overrides. It
    writes the run's folder (see `lficam_tf.training.run_dir`): config.json
    first, a checkpoint every epoch, `best.keras`, logs, and at the end
    `model.keras`, `serving/<version>/`, `attention.png` and `metrics.json`.
    An interrupted run (even by `kill -9`) resumes from its last checkpoint
    when called again with the same configuration: the weights, the
    optimizer's state (and step count, so the learning-rate schedule goes
    on), the epoch, the best accuracy so far and the logs come back; the data
    order of the remaining epochs is drawn from `seed` and the epoch, so it
    differs from that of an uninterrupted run. At most the epoch in flight is
    lost. Temporary files of the interrupted call are removed, and
    `wall_seconds` in metrics.json sums the time of all calls (that of a
    killed call up to its last finished epoch).

    Side effects: sets the global random seeds (`keras.utils.set_random_seed`)
    and, before TensorFlow's first operation, its thread pools (`threads`).

    Args:
        config: a `TrainConfig`, a preset name (`"shapes"`, `"cifar"`,
            `"stl10"`, `"catdog"`, `"imagenet"`), a dict of fields, or None
            (the "shapes" preset). Defaults to `None`.
        resume: str or None. The folder of a run to continue with its saved
            configuration (instead of `config`). Defaults to `None`.
        **overrides: `TrainConfig` fields, e.g. `epochs=2, devices=2`.

    Returns:
        A `TrainResult` (`config`, `output_dir`, `metrics`, `model`,
        `history`).

    Raises:
        ConfigError: a configuration that cannot run (the message says how
            to fix it), found before anything is written; or an output
            folder that cannot be written (read-only, full), named.
        TrainingDiverged: the loss turned inf or NaN; the message names the
            epoch and what to try. Nothing is exported, and the checkpoint
            of the last good epoch stays in the run's folder.

    Example:

    >>> from lficam_tf.training import train
    >>> result = train(epochs=1, num_train=64, num_test=32,
    ...                output_dir="/tmp/quick")              # doctest: +SKIP
    >>> result.metrics["test_accuracy"]                      # doctest: +SKIP
    """
    start = time.perf_counter()
    if resume is not None:
        if config is not None:
            raise ConfigError(
                "Pass either `config` or `resume`, not both: `resume` continues a "
                f"run with its saved configuration. Received: resume={resume!r}"
            )
        config = run_dir_lib.resume_config(resume, overrides)
    else:
        config = make_config(config, **overrides)

    configure_threads(config.threads)
    strategy = select_strategy(config.devices)
    _check_compatible(config, strategy)
    chief = is_chief(strategy)

    run, resumed = run_dir_lib.choose_run_dir(config)
    created = run.reserved or not run.path.exists()
    lock = None
    try:
        # A read-only or full folder: one message naming it (ConfigError).
        with run_dir_lib.output_errors(run):
            lock = run_dir_lib.RunLock(run).acquire() if chief else None
            if chief and resumed:
                run_dir_lib.remove_partial_files(run)  # Left by a kill.
            # wall_seconds counts the earlier calls of a resumed run too.
            start -= run_dir_lib.earlier_wall_seconds(run) if resumed else 0.0
            with model_setup.dtype_policy(config.mixed_precision):
                return _train(config, strategy, run, resumed, chief, start)
    except BaseException:
        if chief and created and not run.started:
            shutil.rmtree(run.path, ignore_errors=True)  # Nothing was written.
        elif chief and lock is not None and run.started and not run.finished:
            with contextlib.suppress(OSError):  # E.g. the disk is full.
                run_dir_lib.save_wall_seconds(run, time.perf_counter() - start)
        raise
    finally:
        if lock is not None:
            lock.release()


def _train(config, strategy, run, resumed, chief, start):
    """The steps of a run, once its folder is held: see the module docstring."""
    replicas = strategy.num_replicas_in_sync
    verbose = config.verbose
    if verbose == "auto":  # The bar on a terminal, a line per epoch in logs.
        verbose = 1 if sys.stdout.isatty() else 2

    with _as_config_error():
        bundle = run_data.load(config)
        size = run_data.image_size(config, bundle)
    keras.utils.set_random_seed(config.seed)
    with strategy.scope(), _as_config_error():
        model = model_setup.build_for_config(
            config, bundle.num_classes, size, replicas=replicas
        )

    done = fitting.completed_epochs(run) if resumed else 0
    if chief and resumed:
        # A kill between an epoch's files and its checkpoint: drop that epoch.
        run_dir_lib.agree_with_checkpoint(run, done)
    _say(
        chief,
        verbose,
        f"{'Resuming' if resumed else 'Training'} {config.head} on {config.backbone} "
        f"({model.count_params():,} parameters) with {bundle!r} on "
        f"{replicas} replica(s); output: {run.path}"
        + (f"; {done} of {config.epochs} epochs done" if resumed else ""),
    )

    drop_remainder = replicas > 1
    steps_per_epoch = run_data.steps_per_epoch(config, bundle, replicas)
    with _as_config_error():
        train_data, test_data = run_data.pipelines(
            config, bundle, size, done, drop_remainder
        )

    with strategy.scope():
        losses = model_setup.compile_model(
            model, config, steps_per_epoch, replicas=replicas
        )
    if model.jit_compile:
        _say(
            chief, verbose, "XLA-compiled training step (--no-jit-compile turns it off)"
        )
    if chief and not resumed:
        # Everything is checked: the run starts, its configuration first.
        run_dir_lib.atomic_write_text(run.config, config.to_json())

    shown = run_data.fixed_test_images(config, bundle, size)
    callbacks, best, throughput = fitting.make_callbacks(
        config, run, chief, shown, start
    )
    history = fitting.fit(
        model,
        strategy,
        config,
        train_data,
        test_data,
        steps_per_epoch,
        callbacks,
        losses,
        verbose,
    )

    if not chief:
        return TrainResult(config, run.path, None, model, history.history)
    if replicas > 1:
        # A plain copy, without the strategy's distributed variables, for
        # evaluation and export.
        run_dir_lib.atomic_save_model(model, run.model)
        model = keras.models.load_model(run.model)
    metrics = finish.finish_run(
        model, config, bundle, test_data, run, best, throughput, start, replicas
    )
    _say(chief, verbose, finish.summary_text(metrics, run))
    return TrainResult(config, run.path, metrics, model, history.history)


@contextlib.contextmanager
def _as_config_error():
    """Errors of the user's input found while setting up, as `ConfigError`.

    Data loading and model building report bad values (an unknown backbone,
    a missing folder, a TFDS dataset that is not prepared) as ValueError,
    TypeError or OSError with a message that says the fix; as ConfigError
    `train_tf.py` prints them without a traceback. The original error is
    kept as the cause.
    """
    try:
        yield
    except ConfigError:
        raise
    except (ValueError, TypeError, OSError) as error:
        raise ConfigError(str(error)) from error
