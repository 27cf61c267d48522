"""Experiment 4: faithfulness of the maps, on CIFAR-10 and "shapes".

On the first test images of a fixed order, for LFI-CAM's and ABN's own maps
and Grad-CAM, Grad-CAM++ and Score-CAM on the baseline model (each head's
seed-0 model of the base recipe; also the post-hoc methods on the LFI-CAM
and ABN models), each explaining the model's prediction:

- Average Drop % (lower is better): how much the class probability falls
  when the image is multiplied by its map;
- Increase in Confidence % (higher): how often it rises;
- Deletion AUC (lower): the class probability while the most salient pixels
  are set to 0, in 50 steps (RISE);
- Insertion AUC (higher): the same while they are inserted into a blurred
  image.

The scoring is `lficam_tf.evaluation.evaluate` (`lficam-eval`'s library);
its full report, with the deletion / insertion curves, is in
`results/eval_<dataset>/` (shared with localization.py on "shapes").

Writes results/faithfulness_<dataset>.json.

    python experiments/faithfulness.py --dataset cifar10
    python experiments/faithfulness.py --dataset shapes
    python experiments/faithfulness.py --tiny
"""

import argparse
import sys
import time

import studylib

KEYS = (
    "average_drop",
    "increase_in_confidence",
    "deletion_auc",
    "insertion_auc",
    "road_morf",
    "road_lerf",
    "road_combined",
)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    studylib.add_common_arguments(parser)
    parser.add_argument(
        "--dataset",
        choices=studylib.DATASETS,
        action="append",
        help="repeatable (default: both)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    study = studylib.Study.from_args(args)
    for dataset in args.dataset or studylib.DATASETS:
        report = studylib.evaluation_report(study, dataset)
        result = studylib.header(study, "faithfulness", started)
        result.update(
            {
                "dataset": dataset,
                "num_images": report["config"]["num_images"],
                "image_size": report["config"]["image_size"],
                "steps": report["config"]["steps"],
                "deletion_baseline": report["config"]["deletion_baseline"],
                "insertion_baseline": report["config"]["insertion_baseline"],
                "road_percentages": report["config"].get("road_percentages"),
                "explained_class": report["config"]["target"],
                "accuracy_on_images": {
                    m["name"]: m["accuracy"] for m in report["models"]
                },
                "rows": studylib.metric_rows(report, KEYS),
                "models": report["model_records"],
                "report": studylib.rel(study.results / f"eval_{dataset}"),
                "eval_seconds": report["eval_seconds"],
            }
        )
        path = study.results / f"faithfulness_{dataset}.json"
        studylib.write_json(path, result)
        study.say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
