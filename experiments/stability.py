"""Experiment 2: stability of the maps across models (the paper's headline).

Five models per method (ABN, LFI-CAM) that differ in learning rate, weight
decay, batch size and seed (`studylib.VARIANTS`; the first two are the
accuracy runs), on CIFAR-10 and on the built-in "shapes" data. Every model
explains the same fixed test images; for each method, the IoU of the
thresholded maps (x255, > 100, METHOD.md section 6 item 3) of the same
image from two models, for every pair of models: the per-image IoU, the
5 x 5 matrix of its means, and the mean over the 10 pairs, the number the
paper reports (CIFAR-10: ABN 0.29, LFI-CAM 0.60). Also Grad-CAM computed on
the same five LFI-CAM models and on the five ABN models (no extra
training), where a post-hoc method stands.

LFI-CAM's and ABN's maps do not depend on a class; Grad-CAM explains the
true label, so that every model explains the same class of an image.

Writes:
    results/runs/<dataset>/<run>.json      each trained model, as it finishes
    results/stability_<dataset>.json       matrices, means, per-image IoU
    results/figures/stability_<dataset>_*.png   heat maps, maps side by side

    python experiments/stability.py --dataset shapes
    python experiments/stability.py --dataset cifar10
    python experiments/stability.py --tiny
"""

import argparse
import sys
import time
import types

import numpy as np
import studylib

HEADS = ("lficam", "abn")
#: (key, models of head, method): the map sets whose stability is measured.
METHODS = (
    ("lficam", "lficam", "native"),
    ("abn", "abn", "native"),
    ("gradcam_lficam", "lficam", "gradcam"),
    ("gradcam_abn", "abn", "gradcam"),
)
TITLES = {
    "lficam": "LFI-CAM",
    "abn": "ABN",
    "gradcam_lficam": "Grad-CAM on the LFI-CAM models",
    "gradcam_abn": "Grad-CAM on the ABN models",
}
THRESHOLD = 100
#: Images shown side by side in the figures.
SHOWN = 4


def compute_maps(study, specs, images, labels):
    """`{key: [maps of each model]}` and `{run: accuracy on the images}`."""
    from lficam_tf.explain import explain_with, get_explainer

    maps = {key: [] for key, _, _ in METHODS}
    accuracy = {}
    for spec in specs:
        model = studylib.load_run_model(study, spec)
        for key, head, method in METHODS:
            if head != spec.head:
                continue
            explainer = get_explainer(model, method)
            target = None if method == "native" else labels
            result = explain_with(explainer, images, target, study.size.batch_size)
            maps[key].append(result.maps)
            accuracy[spec.name] = float(np.mean(result.predictions == labels))
    return maps, accuracy


def stability_of(maps, names):
    """The paper's numbers for one method's maps of N models."""
    from lficam_tf.metrics import stability_matrix

    result = stability_matrix(maps, threshold=THRESHOLD)
    upper = np.triu_indices(len(maps), k=1)
    per_image = result.per_image[upper].mean(axis=0)  # (num_images,)
    return {
        "models": names,
        "matrix": result.matrix.round(4),
        "mean": result.mean,
        "per_pair_std": float(result.matrix[upper].std()),
        "per_image_mean_iou": per_image.round(4),
        "per_image_quartiles": np.percentile(per_image, [25, 50, 75]).round(4),
        # Share of each model's pixels above the threshold: a map that marks
        # everything overlaps everything.
        "area_above_threshold": [float(np.mean(255.0 * m > THRESHOLD)) for m in maps],
    }


def save_figures(study, dataset, stability, maps, images, names_by_key):
    from lficam_tf.evaluation.plots import plot_stability
    from lficam_tf.explain import plot_explanations

    written = []
    for key, value in stability.items():
        title = f"{TITLES[key]} ({dataset})"
        holder = types.SimpleNamespace(stability={title: value})
        written.append(
            studylib.save_figure(
                plot_stability(holder, title),
                study.figures / f"stability_{dataset}_{key}.png",
            )
        )
        columns = {name: m[:SHOWN] for name, m in zip(names_by_key[key], maps[key])}
        figure = plot_explanations(images[:SHOWN], columns, cell_size=1.5)
        figure.suptitle(f"{TITLES[key]}: the same images, five models", fontsize=10)
        written.append(
            studylib.save_figure(
                figure, study.figures / f"stability_maps_{dataset}_{key}.png"
            )
        )
    return [studylib.rel(p) for p in written]


def run_dataset(study, dataset, started):
    specs = studylib.variant_specs(study.size, dataset, HEADS, study.size.variants)
    records = {spec.name: studylib.ensure_trained(study, spec) for spec in specs}
    path = study.results / f"stability_{dataset}.json"
    previous = studylib.read_json(path)
    if (
        previous is not None
        and previous["models"] == records
        and previous["protocol"]["num_images"] == study.size.stability_images
    ):
        study.say(f"{dataset} stability: {path} is up to date")
        return previous
    size = records[specs[0].name]["image_size"]
    images, labels, _, class_names = studylib.test_images(
        study, dataset, size, study.size.stability_images
    )
    study.say(f"{dataset}: maps of {len(images)} test images from {len(specs)} models")
    maps, accuracy = compute_maps(study, specs, images, labels)
    names_by_key = {
        key: [s.name for s in specs if s.head == head] for key, head, _ in METHODS
    }
    stability = {
        key: stability_of(maps[key], names_by_key[key]) for key, _, _ in METHODS
    }
    figures = save_figures(study, dataset, stability, maps, images, names_by_key)
    paper = studylib.PAPER_STABILITY.get(dataset)
    result = studylib.header(study, "stability", started)
    result.update(
        {
            "claim": "across models trained with different hyper-parameters, "
            "LFI-CAM's thresholded maps overlap far more than ABN's "
            "(METHOD.md section 6 item 3)",
            "dataset": dataset,
            "protocol": {
                "threshold": THRESHOLD,
                "binarise": "255 * map > threshold, maps at the input size",
                "iou": "per image, then the mean over images; mean over the "
                "model pairs i < j",
                "num_images": len(images),
                "models_per_method": study.size.variants,
                "images": "the first test images of a fixed order (seed 0)",
                "explained_class": "native maps: none (class-agnostic); "
                "Grad-CAM: the true label",
            },
            "models": {name: records[name] for name in records},
            "accuracy_on_images": accuracy,
            "stability": stability,
            "paper": paper,
            "titles": TITLES,
            "figures": figures,
            "train_seconds_total": sum(r["wall_seconds"] for r in records.values()),
        }
    )
    studylib.write_json(path, result)
    means = ", ".join(f"{TITLES[k]} {v['mean']:.3f}" for k, v in stability.items())
    study.say(f"{dataset} stability: {means}; wrote {path}")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    studylib.add_common_arguments(parser)
    parser.add_argument(
        "--dataset",
        choices=studylib.DATASETS,
        action="append",
        help="repeatable (default: both, shapes first)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    study = studylib.Study.from_args(args)
    for dataset in args.dataset or ("shapes", "cifar10"):
        run_dataset(study, dataset, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
