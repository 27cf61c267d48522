"""`train`: one call from a configuration to a trained, evaluated, exported model.

    >>> from lficam_tf.training import train
    >>> result = train(epochs=1, num_train=64, num_test=32)   # doctest: +SKIP
    >>> result.metrics["test_accuracy"], result.output_dir    # doctest: +SKIP

Steps: threads and devices; data (`lficam_tf.data`); the model
(`lficam_tf.build_model`) compiled under the strategy; `model.fit` with the
run's callbacks (or the custom loop of `multiworker` under
`MultiWorkerMirroredStrategy`); then, on the final model, test accuracy and
maps in one pass (`lficam_tf.explain`), the energy-based pointing game
against the object masks (`lficam_tf.metrics`), `attention.png`,
`model.keras`, the TF Serving export (`lficam_tf.export`) and `metrics.json`,
last. See `run_dir` for the output folder and how runs resume.
"""

import contextlib
import dataclasses
import json
import math
import pathlib
import shutil
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from lficam_tf.api_export import lficam_export
from lficam_tf.data import BUILTIN_DATASETS, build_pipeline, load_data
from lficam_tf.explain import explain_with, get_explainer, plot_explanations
from lficam_tf.export import export
from lficam_tf.metrics import energy_pointing_game
from lficam_tf.models import outputs as model_outputs
from lficam_tf.models.build import build_model
from lficam_tf.optimizers import SGD
from lficam_tf.training import callbacks as callbacks_lib
from lficam_tf.training import multiworker
from lficam_tf.training import run_dir as run_dir_lib
from lficam_tf.training.config import ConfigError, TrainConfig
from lficam_tf.training.strategy import (
    configure_threads,
    is_chief,
    is_multi_worker,
    select_strategy,
)

#: Test images in attention.png (one row each: the image, then its map).
FIGURE_IMAGES = 8

#: Cache decoded training images in memory below this many bytes.
CACHE_LIMIT_BYTES = 4 * 2**30


@lficam_export("lficam_tf.training.TrainResult")
@dataclasses.dataclass
class TrainResult:
    """What `train` returns.

    Attributes:
        config: the resolved `TrainConfig` (also in `config.json`).
        output_dir: `pathlib.Path` of the run's folder.
        metrics: dict, the contents of `metrics.json` (None on the
            non-chief workers of a multi-worker run, which write nothing).
        model: the final `keras.Model` (also in `model.keras`).
        history: dict of per-epoch logs of this call (`History.history`);
            a resumed run holds the epochs after the resume only (all epochs
            are in `training_log.csv`).
    """

    config: TrainConfig
    output_dir: pathlib.Path
    metrics: dict
    model: keras.Model
    history: dict


@lficam_export("lficam_tf.training.make_config")
def make_config(config=None, **overrides):
    """A `TrainConfig` from a config, a dict, a preset name or nothing.

    Args:
        config: None (the `preset` override, else "shapes"), a preset name,
            a `TrainConfig`, or a dict of its fields.
        **overrides: `TrainConfig` fields to replace.

    Example:

    >>> make_config("cifar", epochs=30).lr_steps
    (15, 22)
    >>> make_config(epochs=2).dataset
    'shapes'
    """
    if config is None or isinstance(config, str):
        values = dict(overrides)
        preset = values.pop("preset", None) or config or "shapes"
        return TrainConfig.from_preset(preset, **values)
    if isinstance(config, TrainConfig):
        return config.replace(**overrides) if overrides else config
    if isinstance(config, dict):
        values = {**config, **overrides}
        preset = values.pop("preset", "shapes")
        return TrainConfig.from_preset(preset, **values)
    raise TypeError(
        "`config` must be a TrainConfig, a dict of its fields, a preset name or "
        f"None. Received: config={config!r} of type {type(config).__name__}"
    )


@contextlib.contextmanager
def _dtype_policy(mixed_precision):
    previous = keras.config.dtype_policy()
    if mixed_precision:
        keras.config.set_dtype_policy(f"mixed_{mixed_precision}")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def make_optimizer(config, steps_per_epoch):
    """The optimizer and learning-rate schedule of `config`.

    SGD is `lficam_tf.optimizers.SGD`, PyTorch's update with the weight
    decay rule of `config.weight_decay_mode` (coupled L2 for the paper's
    presets); Adam and AdamW are Keras', with decoupled decay.
    """
    lr = config.learning_rate
    total = config.epochs * steps_per_epoch
    warmup = round(config.warmup_epochs * steps_per_epoch)
    if config.schedule == "cosine":
        if warmup:
            rate = keras.optimizers.schedules.CosineDecay(
                0.0, max(1, total - warmup), warmup_target=lr, warmup_steps=warmup
            )
        else:
            rate = keras.optimizers.schedules.CosineDecay(lr, max(1, total))
    elif config.schedule == "step":
        rate = keras.optimizers.schedules.PiecewiseConstantDecay(
            [epoch * steps_per_epoch for epoch in config.lr_steps],
            [lr * config.lr_decay**i for i in range(len(config.lr_steps) + 1)],
        )
    else:
        rate = lr
    decay = config.weight_decay or None
    if config.optimizer == "sgd":
        momentum = 0.9 if config.momentum is None else config.momentum
        return SGD(
            rate,
            momentum=momentum,
            weight_decay=decay,
            weight_decay_mode=config.weight_decay_mode,
        )
    # Adam and AdamW decay decoupled (the config accepts no other mode).
    if config.optimizer == "adam":
        return keras.optimizers.Adam(rate, weight_decay=decay)
    return keras.optimizers.AdamW(rate, weight_decay=config.weight_decay)


def compile_model(model, config, steps_per_epoch):
    """Compile with `config`'s optimizer, the cross-entropy on every output
    the model trains (`LOSS_OUTPUTS`), and accuracy on the logits.

    Returns:
        The dict of losses, `{output name: keras loss}`.
    """
    if config.uses_soft_labels:
        loss_class = keras.losses.CategoricalCrossentropy
        accuracy = keras.metrics.CategoricalAccuracy("accuracy")
    else:
        loss_class = keras.losses.SparseCategoricalCrossentropy
        accuracy = keras.metrics.SparseCategoricalAccuracy("accuracy")
    losses = {name: loss_class(from_logits=True) for name in model.LOSS_OUTPUTS}
    model.compile(
        optimizer=make_optimizer(config, steps_per_epoch),
        loss=losses,
        metrics={model_outputs.LOGITS: [accuracy]},
        jit_compile=config.jit_compile,
    )
    return losses


def synchronize_batchnorm(model):
    """Compute batch statistics over all replicas in every BN layer."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def _completed_epochs(run):
    path = run.checkpoints / "training_metadata.json"
    try:
        return int(json.loads(path.read_text())["epoch"])
    except (FileNotFoundError, ValueError, KeyError):
        return 0


def _image_size(config, bundle):
    if config.image_size is not None:
        return config.image_size
    if bundle.image_shape is None:
        raise ConfigError(
            f"`image_size` is needed: the images of {bundle.name!r} vary in size. "
            "Received: image_size=None. Pass e.g. --image-size 224."
        )
    return tuple(bundle.image_shape[:2])


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


def _check_model_options(config):
    if config.head != "lficam" and (
        config.fin_width is not None
        or config.fin_depth != 4
        or config.fin_relu != "paired"
    ):
        raise ConfigError(
            "`fin_width`, `fin_depth` and `fin_relu` apply to head='lficam' "
            f"only. Received: head={config.head!r}, fin_width={config.fin_width!r}, "
            f"fin_depth={config.fin_depth!r}, fin_relu={config.fin_relu!r}. "
            "Drop them, or use --head lficam."
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
    _check_model_options(config)

    configure_threads(config.threads)
    strategy = select_strategy(config.devices)
    _check_compatible(config, strategy)
    chief = is_chief(strategy)

    run, resumed = run_dir_lib.choose_run_dir(config)
    created = not run.path.exists()
    lock = None
    try:
        # A read-only or full folder: one message naming it (ConfigError).
        with run_dir_lib.output_errors(run):
            lock = run_dir_lib.RunLock(run).acquire() if chief else None
            if chief and resumed:
                run_dir_lib.remove_partial_files(run)  # Left by a kill.
            # wall_seconds counts the earlier calls of a resumed run too.
            start -= run_dir_lib.earlier_wall_seconds(run) if resumed else 0.0
            with _dtype_policy(config.mixed_precision):
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


def _load(config):
    geometric = (
        config.augmentation == "imagenet" and config.dataset not in BUILTIN_DATASETS
    )
    return load_data(
        config.dataset,
        data_dir=config.data_dir,
        image_size=None if geometric else config.image_size,
        seed=config.seed,
        num_train=config.num_train,
        num_test=config.num_test,
    )


def _train(config, strategy, run, resumed, chief, start):
    multi = is_multi_worker(strategy)
    replicas = strategy.num_replicas_in_sync
    verbose = config.verbose
    if verbose == "auto":  # The bar on a terminal, a line per epoch in logs.
        verbose = 1 if sys.stdout.isatty() else 2

    with _as_config_error():
        bundle = _load(config)
        size = _image_size(config, bundle)
    keras.utils.set_random_seed(config.seed)
    with strategy.scope(), _as_config_error():
        model = build_model(
            config.backbone,
            num_classes=bundle.num_classes,
            input_shape=(size[0], size[1], 3),
            head=config.head,
            weights=config.weights,
            fin_depth=config.fin_depth,
            fin_relu=config.fin_relu,
            fin_width=config.fin_width,
            stem_stride=config.stem_stride,
        )
    sync_bn = (
        config.sync_batchnorm if config.sync_batchnorm is not None else replicas > 1
    )
    if sync_bn:
        synchronize_batchnorm(model)

    done = _completed_epochs(run) if resumed else 0
    _say(
        chief,
        verbose,
        f"{'Resuming' if resumed else 'Training'} {config.head} on {config.backbone} "
        f"({model.count_params():,} parameters) with {bundle!r} on "
        f"{replicas} replica(s); output: {run.path}"
        + (f"; {done} of {config.epochs} epochs done" if resumed else ""),
    )

    drop_remainder = replicas > 1
    steps_per_epoch = (
        bundle.train_size // config.batch_size
        if drop_remainder
        else math.ceil(bundle.train_size / config.batch_size)
    )
    if steps_per_epoch < 1:
        raise ConfigError(
            f"`batch_size` must not exceed the {bundle.train_size} training images "
            f"with {replicas} replicas. Received: batch_size={config.batch_size}."
        )
    augmentation = None if config.augmentation == "none" else config.augmentation
    cache = bundle.train_size * size[0] * size[1] * 12 < CACHE_LIMIT_BYTES
    # After a resume, the data order is drawn from a seed that depends on
    # the epoch, so that the resumed epochs do not repeat the first ones.
    with _as_config_error():
        train_data, test_data = _pipelines(
            config, bundle, size, augmentation, cache, done, drop_remainder
        )

    with strategy.scope():
        losses = compile_model(model, config, steps_per_epoch)
    if chief and not resumed:
        # Everything is checked: the run starts, its configuration first.
        run_dir_lib.atomic_write_text(run.config, config.to_json())

    shown = _fixed_test_images(bundle, test_data, config.attention_images, size)
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

    if multi:
        history = multiworker.fit_multi_worker(
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
    else:
        history = model.fit(
            train_data,
            validation_data=test_data,
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # The pipeline shuffles.
        )

    if not chief:
        return TrainResult(config, run.path, None, model, history.history)
    if replicas > 1:
        # A plain copy, without the strategy's distributed variables, for
        # evaluation and export.
        run_dir_lib.atomic_save_model(model, run.model)
        model = keras.models.load_model(run.model)
    metrics = finish_run(
        model, config, bundle, test_data, run, best, throughput, start, replicas
    )
    _say(chief, verbose, summary_text(metrics, run))
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


def _pipelines(config, bundle, size, augmentation, cache, done, drop_remainder):
    train_data = build_pipeline(
        bundle.train,
        config.batch_size,
        training=True,
        image_size=size,
        augmentation=augmentation,
        randaugment=config.randaugment,
        mixup=config.mixup,
        cutmix=config.cutmix,
        num_classes=bundle.num_classes,
        seed=config.seed + 1000 * done,
        cache=cache,
        drop_remainder=drop_remainder,
    )
    test_data = build_pipeline(
        bundle.test,
        config.batch_size,
        training=False,
        image_size=size,
        augmentation=augmentation,
        num_classes=bundle.num_classes,
        one_hot=config.uses_soft_labels,
        cache=cache,
    )
    return train_data, test_data


def _fixed_test_images(bundle, test_data, count, size):
    """The first `count` test images (as the model sees them), labels, masks."""
    if not count:
        return None
    images, labels = [], []
    for batch_images, batch_labels in test_data:
        images.append(batch_images.numpy())
        labels.append(batch_labels.numpy())
        if sum(len(b) for b in images) >= count:
            break
    images = np.concatenate(images)[:count]
    labels = np.concatenate(labels)[:count]
    if labels.ndim == 2:
        labels = labels.argmax(-1)
    masks = _masks_for(bundle, size, count)
    return images, labels, masks


def _masks_for(bundle, size, count=None):
    """The test masks at the model's input size, or None."""
    masks = bundle.test_masks
    if masks is None:
        return None
    masks = masks[:count] if count is not None else masks
    if tuple(masks.shape[1:3]) != tuple(size):
        resized = tf.image.resize(
            masks[..., None].astype("float32"), size, method="nearest"
        )
        masks = resized.numpy()[..., 0] > 0.5
    return masks


def evaluate_maps(model, test_data, masks=None, keep=16):
    """Test accuracy and the maps' energy-based pointing game, in one pass.

    The model's own map (LFI-CAM, ABN) comes from the same forward pass as
    the prediction; a baseline model is explained with Grad-CAM. Maps are
    at the input resolution (`lficam_tf.explain`).

    Args:
        model: the trained classifier.
        test_data: batched `(images, labels)` in the order of `masks`.
        masks: bool `(num_test, height, width)` or None.
        keep: how many of the first images, maps and predictions to return.

    Returns:
        A dict: `test_accuracy`, `energy_pointing_game` and `mask_fraction`
        (None without masks), `map_method`, and `shown` =
        `(images, maps, predictions, labels, probabilities)` of the first
        `keep` test images.
    """
    explainer = get_explainer(model, callbacks_lib.map_method(model))
    correct = count = 0
    energies, kept = [], []
    for images, labels in test_data:
        images = images.numpy()
        labels = labels.numpy()
        if labels.ndim == 2:
            labels = labels.argmax(-1)
        need_maps = masks is not None or count < keep
        if need_maps:
            explanation = explain_with(explainer, images, batch_size=len(images))
            probabilities, maps = explanation.probabilities, explanation.maps
        else:
            probabilities = keras.ops.softmax(
                keras.ops.cast(
                    model_outputs.logits(model(images, training=False)), "float32"
                )
            ).numpy()
            maps = None
        predictions = probabilities.argmax(-1)
        if masks is not None:
            energies.append(
                energy_pointing_game(maps, masks=masks[count : count + len(images)])
            )
        if count < keep:
            take = keep - count
            kept.append(
                (
                    images[:take],
                    maps[:take],
                    predictions[:take],
                    labels[:take],
                    probabilities[:take],
                )
            )
        correct += int(np.sum(predictions == labels))
        count += len(images)
    shown = tuple(np.concatenate(parts) for parts in zip(*kept)) if kept else None
    return {
        "test_accuracy": correct / count,
        "energy_pointing_game": float(np.mean(np.concatenate(energies)))
        if energies
        else None,
        "mask_fraction": float(np.mean(masks[:count])) if masks is not None else None,
        "map_method": explainer.method,
        "shown": shown,
    }


def save_attention_figure(path, shown, class_names, method):
    """The grid of test images with their maps, predicted / true classes."""
    images, maps, predictions, labels, probabilities = shown
    titles = [
        f"pred: {class_names[p]} ({probabilities[i, p]:.2f})\ntrue: {class_names[t]}"
        for i, (p, t) in enumerate(zip(predictions, labels))
    ]
    figure = plot_explanations(images, {method: maps}, titles=titles, cell_size=1.8)
    with run_dir_lib.atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=110)


def finish_run(
    model, config, bundle, test_data, run, best, throughput, start, replicas=1
):
    """Evaluate, write the final files (metrics.json last), drop the checkpoint."""
    size = tuple(model.inputs[0].shape[1:3])
    # Masks are only meaningful where evaluation keeps the geometry.
    masks = None if config.augmentation == "imagenet" else _masks_for(bundle, size)
    result = evaluate_maps(model, test_data, masks, keep=config.attention_images)
    if result["shown"] is not None:
        shown = tuple(part[:FIGURE_IMAGES] for part in result["shown"])
        save_attention_figure(
            run.attention_png, shown, bundle.class_names, result["map_method"]
        )
    run_dir_lib.atomic_save_model(model, run.model)
    version_dir = run.serving / str(config.serving_version)
    if version_dir.exists():  # Left by this run before it was interrupted.
        shutil.rmtree(version_dir)
    export(
        model,
        run.serving,
        version=config.serving_version,
        class_names=list(bundle.class_names),
        # Served images get the evaluation transform of the recipe.
        center_crop=config.augmentation == "imagenet",
    )

    epg, fraction = result["energy_pointing_game"], result["mask_fraction"]
    metrics = {
        "test_accuracy": result["test_accuracy"],
        "best_test_accuracy": best.best_accuracy,
        "best_epoch": best.best_epoch,
        "energy_pointing_game": epg,
        "mask_fraction": fraction,
        "energy_pointing_game_over_mask_fraction": (
            epg / fraction if epg is not None and fraction else None
        ),
        "map_method": result["map_method"],
        "epochs": config.epochs,
        "wall_seconds": time.perf_counter() - start,
        "train_images_per_second": throughput.images_per_second,
        "dataset": bundle.name,
        "num_classes": bundle.num_classes,
        "train_size": bundle.train_size,
        "test_size": bundle.test_size,
        "image_size": list(size),
        "backbone": config.backbone,
        "head": config.head,
        "replicas": replicas,
    }
    run_dir_lib.atomic_write_text(run.metrics, json.dumps(metrics, indent=2) + "\n")
    run_dir_lib.remove_checkpoints(run)
    return metrics


def summary_text(metrics, run):
    """The closing lines `train` prints."""
    lines = [
        f"test accuracy {metrics['test_accuracy']:.4f} "
        f"(best {metrics['best_test_accuracy']:.4f} at epoch {metrics['best_epoch']})"
        if metrics["best_test_accuracy"] is not None
        else f"test accuracy {metrics['test_accuracy']:.4f}",
    ]
    if metrics["energy_pointing_game"] is not None:
        lines.append(
            f"energy pointing game {metrics['energy_pointing_game']:.3f} "
            f"({metrics['map_method']} maps; the masks cover "
            f"{metrics['mask_fraction']:.3f} of the image: "
            f"{metrics['energy_pointing_game_over_mask_fraction']:.2f}x)"
        )
    if metrics["train_images_per_second"]:
        lines.append(
            f"training speed {metrics['train_images_per_second']:.0f} images/s"
        )
    lines.append(f"wall time {metrics['wall_seconds']:.0f} s")
    lines.append(
        f"wrote {run.path}: model.keras, best.keras, serving/, attention.png, "
        "metrics.json, training_log.csv, tensorboard/"
    )
    return "\n".join(lines)
