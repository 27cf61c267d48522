"""Finishing a run: evaluation with maps, the final files, the summary.

On the final model: test accuracy and maps in one pass (`evaluate_maps`:
the model's own map for LFI-CAM and ABN, Grad-CAM for the baseline), the
energy-based pointing game against the object masks, then `attention.png`,
`model.keras`, the TF Serving export (`lficam_tf.export`) and, last,
`metrics.json`, which marks the run finished (`finish_run`); the checkpoint
is removed after it. `summary_text` is what `train` prints at the end.
"""

import json
import shutil
import time

import keras
import numpy as np

from lficam_tf.explain import explain_with, get_explainer, plot_explanations
from lficam_tf.export import export
from lficam_tf.metrics import energy_pointing_game
from lficam_tf.models import outputs as model_outputs
from lficam_tf.training import callbacks as callbacks_lib
from lficam_tf.training import run_dir as run_dir_lib
from lficam_tf.training.config import FIGURE_IMAGES
from lficam_tf.training.run_data import masks_for


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
    masks = None if config.augmentation == "imagenet" else masks_for(bundle, size)
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
    written = [
        name
        for name, path in (
            ("model.keras", run.model),
            ("best.keras", run.best_model),
            ("serving/", run.serving),
            ("attention.png", run.attention_png),  # not with attention_images=0
            ("metrics.json", run.metrics),
            ("training_log.csv", run.csv_log),
            ("tensorboard/", run.tensorboard),
        )
        if path.exists()
    ]
    lines.append(f"wrote {run.path}: {', '.join(written)}")
    return "\n".join(lines)
