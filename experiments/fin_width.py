"""Experiment 6: what a narrow (bottleneck) Feature Importance Network keeps.

The paper's FIN is four K -> K 3x3 convolutions: on wide backbones it costs
more than the network it explains (151 M parameters on ResNet-50), so
`build_model` gives backbones with more than 256 feature channels a
bottleneck FIN by default (1x1 K -> W, 3x3 W -> W twice, 1x1 W -> K;
`lficam_tf.layers.scaled_fin_width`). This experiment trains the paper's
FIN and a narrow one side by side, two seeds each, on the same recipe, and
compares what the method is for:

- test accuracy (the whole test split; the run's own evaluation);
- energy pointing game (shapes only: its masks), on the fixed stability
  images;
- stability: the IoU of the thresholded maps (x255, > 100, as the paper's
  protocol) of the same images from the two seeds' models;
- Average Drop (Chattopadhyay et al.) on the fixed evaluation images.

Comparisons (`COMPARISONS`): `cifar_resnet20` on shapes and on CIFAR-10
(K = 64, the paper's FIN against width 16: 148 k FIN parameters against
6.7 k; its paper-FIN runs are the study's seed 0 and 1 runs, not trained
again), and `mobilenetv2` (a `keras.applications` backbone, K = 1280,
trained from scratch) on shapes at 128x128 (4x4 maps): the paper's FIN
(59 M parameters, 26x the backbone) against the default width 80.

Writes:
    results/runs/<dataset>/<run>.json, results/models/...   each model, as it finishes
    results/fin_width.json                                  the table
    results/figures/fin_width_<comparison>.png              maps side by side

    python experiments/fin_width.py                 # every comparison (~4 h on 2 cores)
    python experiments/fin_width.py --only shapes   # the comparisons on shapes
    python experiments/fin_width.py --tiny          # end to end in seconds

Re-running the same command skips finished runs and resumes an interrupted
one from its last epoch; the table is rewritten after each comparison.
"""

import argparse
import dataclasses
import sys
import time

import numpy as np
import studylib

#: Stability threshold of the paper's protocol (maps x 255 > 100).
THRESHOLD = 100
SHOWN = 4


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The paper's FIN against a narrow one on one backbone and dataset."""

    key: str
    dataset: str
    backbone: str | None  # None: the base recipe's (cifar_resnet20)
    image_size: int | None  # None: the dataset's own
    full_width: object  # the `fin_width` that gives the paper's FIN
    narrow_width: int
    title: str

    def specs(self, size):
        """`{"full": [seed 0, seed 1], "narrow": [...]}` of RunSpecs."""
        base = studylib.variant_specs(size, self.dataset, ("lficam",), 2)
        image_size = self.image_size
        if size.name == "tiny":
            image_size = None if self.backbone is None else 64
        out = {}
        for arm, width in (("full", self.full_width), ("narrow", self.narrow_width)):
            out[arm] = [
                dataclasses.replace(
                    spec,
                    backbone=self.backbone,
                    fin_width=width,
                    image_size=image_size
                    if image_size is not None
                    else spec.image_size,
                )
                for spec in base
            ]
        return out


COMPARISONS = (
    Comparison(
        "shapes_resnet20",
        "shapes",
        None,
        None,
        "auto",
        16,
        "cifar_resnet20 on shapes (K = 64): paper FIN vs width 16",
    ),
    Comparison(
        "shapes_mobilenetv2",
        "shapes",
        "mobilenetv2",
        128,
        None,
        80,
        "mobilenetv2 from scratch on shapes at 128x128 (K = 1280): paper FIN vs "
        "the default width 80",
    ),
    Comparison(
        "cifar10_resnet20",
        "cifar10",
        None,
        None,
        "auto",
        16,
        "cifar_resnet20 on CIFAR-10 (K = 64): paper FIN vs width 16",
    ),
)


def score_model(study, spec, images, labels, masks, eval_count):
    """Maps of the fixed images and the metrics of one trained model."""
    from lficam_tf.evaluation import make_predict_fn
    from lficam_tf.explain import explain_with, get_explainer
    from lficam_tf.metrics import average_drop, energy_pointing_game

    model = studylib.load_run_model(study, spec)
    result = explain_with(
        get_explainer(model, "native"), images, None, study.size.batch_size
    )
    fin = model.get_layer("feature_importance")
    scores = {
        "fin_width": fin.width,
        "fin_parameters": int(fin.count_params()),
        "parameters": int(model.count_params()),
        "accuracy_on_images": float(np.mean(result.predictions == labels)),
        "energy_pointing_game": None
        if masks is None
        else float(np.mean(energy_pointing_game(result.maps, masks))),
        # In %, as lficam_tf.metrics.average_drop gives it per image.
        "average_drop": float(
            np.mean(
                average_drop(
                    make_predict_fn(model),
                    images[:eval_count],
                    result.maps[:eval_count],
                    batch_size=study.size.batch_size,
                )
            )
        ),
    }
    return result.maps, scores


def run_comparison(study, comparison):
    from lficam_tf.explain import plot_explanations
    from lficam_tf.metrics import stability_iou

    specs = comparison.specs(study.size)
    records = {
        arm: [studylib.ensure_trained(study, spec) for spec in arm_specs]
        for arm, arm_specs in specs.items()
    }
    size = records["full"][0]["image_size"]
    images, labels, masks, _ = studylib.test_images(
        study, comparison.dataset, size, study.size.stability_images
    )
    eval_count = study.size.eval_images[comparison.dataset]
    study.say(f"{comparison.key}: maps of {len(images)} test images from 4 models")
    arms, maps = {}, {}
    for arm, arm_specs in specs.items():
        runs = []
        maps[arm] = []
        for spec, record in zip(arm_specs, records[arm]):
            arm_maps, scores = score_model(
                study, spec, images, labels, masks, eval_count
            )
            maps[arm].append(arm_maps)
            runs.append(
                {
                    "run": spec.name,
                    "seed": spec.variant.seed,
                    "test_accuracy": record["test_accuracy"],
                    "train_images_per_second": record["train_images_per_second"],
                    "wall_seconds": record["wall_seconds"],
                    **scores,
                }
            )
        stability = stability_iou(maps[arm][0], maps[arm][1], threshold=THRESHOLD)
        summary = {}
        for key in ("test_accuracy", "energy_pointing_game", "average_drop"):
            values = [r[key] for r in runs]
            if None not in values:
                summary[key], summary[f"{key}_std"] = studylib.mean_std(values)
        arms[arm] = {
            "runs": runs,
            "stability_iou": float(np.mean(stability)),
            **summary,
            "fin_width": runs[0]["fin_width"],
            "fin_parameters": runs[0]["fin_parameters"],
            "parameters": runs[0]["parameters"],
        }
    difference = {
        key: arms["narrow"][key] - arms["full"][key]
        for key in (
            "test_accuracy",
            "energy_pointing_game",
            "average_drop",
            "stability_iou",
        )
        if arms["full"].get(key) is not None
    }
    columns = {
        f"{arm} FIN, seed {spec.variant.seed}": m[:SHOWN]
        for arm in ("full", "narrow")
        for spec, m in zip(specs[arm], maps[arm])
    }
    figure = plot_explanations(images[:SHOWN], columns, cell_size=1.5)
    figure.suptitle(comparison.title, fontsize=9)
    path = studylib.save_figure(
        figure, study.figures / f"fin_width_{comparison.key}.png"
    )
    return {
        "title": comparison.title,
        "dataset": comparison.dataset,
        "backbone": comparison.backbone
        or studylib.BASE_RECIPES[comparison.dataset]["backbone"],
        "image_size": size,
        "num_images": len(images),
        "average_drop_images": min(eval_count, len(images)),
        "arms": arms,
        "narrow_minus_full": difference,
        "figure": studylib.rel(path),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    studylib.add_common_arguments(parser)
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="TEXT",
        help="the comparisons whose key contains one of these (keys: "
        f"{', '.join(c.key for c in COMPARISONS)})",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    study = studylib.Study.from_args(args)
    chosen = [
        c for c in COMPARISONS if not args.only or any(t in c.key for t in args.only)
    ]
    if not chosen:
        parser.error(
            f"--only {' '.join(args.only)} matches no comparison; keys: "
            f"{', '.join(c.key for c in COMPARISONS)}"
        )
    path = study.results / "fin_width.json"
    result = studylib.read_json(path) or {}
    comparisons = dict(result.get("comparisons", {}))
    for comparison in chosen:
        comparisons[comparison.key] = run_comparison(study, comparison)
        result = studylib.header(study, "fin_width", started)
        result.update(
            {
                "claim": "a narrow (bottleneck) FIN keeps LFI-CAM's accuracy, "
                "localization, stability and faithfulness (issue 20)",
                "protocol": {
                    "stability": "IoU of the two seeds' maps, 255 * map > "
                    f"{THRESHOLD}, per image then the mean",
                    "images": "the first test images of a fixed order (seed 0)",
                    "average_drop": "the first images of those, the model's "
                    "predicted class",
                },
                "comparisons": comparisons,
            }
        )
        studylib.write_json(path, result)
        diff = comparisons[comparison.key]["narrow_minus_full"]
        study.say(
            f"{comparison.key}: narrow - full "
            + ", ".join(f"{k} {v:+.4f}" for k, v in diff.items())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
