"""Experiment 3: localization on the built-in "shapes" data (true masks).

On the first test images of a fixed order, for LFI-CAM's and ABN's own maps
and Grad-CAM, Grad-CAM++ and Score-CAM on the baseline model (the same
recipe, seed 0; also the post-hoc methods on the LFI-CAM and ABN models):

- energy-based pointing game: the share of the map's mass inside the
  object's mask (Score-CAM's proxy; a map blind to the object scores the
  mask's share of the image, `mask_fraction`);
- pointing game: the map's maximum within the mask (tolerance scaled from
  Zhang et al.'s 15 px at 224);
- box localization: the box around the map above 0.15 has IoU >= 0.5 with
  the box around the mask (`box_accuracy`), and the mean IoU.

Higher is better for all. The explained class is each model's prediction.
The scoring is `lficam_tf.evaluation.evaluate`, shared with
faithfulness.py (`results/eval_shapes/`).

Writes results/localization.json (and results/eval_shapes/ if absent).

    python experiments/localization.py
    python experiments/localization.py --tiny
"""

import argparse
import sys
import time

import studylib

KEYS = ("energy_pointing_game", "pointing_game", "box_accuracy", "box_iou")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    studylib.add_common_arguments(parser)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    study = studylib.Study.from_args(args)
    report = studylib.evaluation_report(study, "shapes")
    result = studylib.header(study, "localization", started)
    result.update(
        {
            "dataset": "shapes",
            "num_images": report["config"]["num_images"],
            "image_size": report["config"]["image_size"],
            "pointing_tolerance": report["config"]["pointing_tolerance"],
            "box_threshold": report["config"]["box_threshold"],
            "mask_fraction": report["mask_fraction"],
            "explained_class": report["config"]["target"],
            "accuracy_on_images": {m["name"]: m["accuracy"] for m in report["models"]},
            "rows": studylib.metric_rows(report, KEYS),
            "models": report["model_records"],
            "report": studylib.rel(study.results / "eval_shapes"),
            "eval_seconds": report["eval_seconds"],
        }
    )
    path = study.results / "localization.json"
    studylib.write_json(path, result)
    study.say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
