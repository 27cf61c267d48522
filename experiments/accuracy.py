"""Experiment 1: CIFAR-10 test accuracy of baseline, ABN and LFI-CAM.

The same recipe and budget for each head on `cifar_resnet20` (the paper's
SGD, 15 epochs, cosine schedule; `studylib.BASE_RECIPES`), two seeds each
(`--seeds`). The claim tested (METHOD.md section 6 item 2): LFI-CAM's
accuracy is at least the plain backbone's.

Writes, as each run finishes:
    results/runs/cifar10/<head>-s<seed>.json   one run's numbers and recipe
    results/accuracy.json                      the table: mean and spread

    python experiments/accuracy.py            # the study (~3 h on 2 cores)
    python experiments/accuracy.py --tiny     # end to end in seconds

Re-running the same command skips finished runs and resumes an interrupted
one from its last epoch.
"""

import argparse
import sys
import time

import studylib

HEADS = ("baseline", "abn", "lficam")


def specs(study):
    """The accuracy runs: every head with the base recipe, seed by seed (all
    heads of seed 0 first, so that an interrupted study has each head)."""
    return studylib.variant_specs(study.size, "cifar10", HEADS, study.size.seeds)


def summarize(records):
    """`{head: {...}}`: the runs of each head, mean and spread of accuracy."""
    table = {}
    for head in HEADS:
        runs = [r for r in records if r["head"] == head]
        final, final_std = studylib.mean_std([r["test_accuracy"] for r in runs])
        best, best_std = studylib.mean_std([r["best_test_accuracy"] for r in runs])
        speed, _ = studylib.mean_std([r["train_images_per_second"] or 0 for r in runs])
        wall, _ = studylib.mean_std([r["wall_seconds"] for r in runs])
        table[head] = {
            "runs": [r["run"] for r in runs],
            "seeds": [r["variant"]["seed"] for r in runs],
            "test_accuracy": [r["test_accuracy"] for r in runs],
            "test_accuracy_mean": final,
            "test_accuracy_std": final_std,
            "best_test_accuracy": [r["best_test_accuracy"] for r in runs],
            "best_test_accuracy_mean": best,
            "best_test_accuracy_std": best_std,
            "train_images_per_second_mean": speed,
            "wall_seconds_mean": wall,
        }
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    studylib.add_common_arguments(parser)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    study = studylib.Study.from_args(args)
    planned = specs(study)
    records = []
    for spec in planned:
        records.append(studylib.ensure_trained(study, spec))
        recipe = records[0]["recipe"]
        result = studylib.header(study, "accuracy", started)
        result.update(
            {
                "claim": "LFI-CAM's test accuracy is at least the plain "
                "backbone's (METHOD.md section 6 item 2)",
                "dataset": "cifar10",
                "backbone": recipe["backbone"],
                "recipe": {
                    k: v for k, v in recipe.items() if k not in ("head", "seed")
                },
                "complete": len(records) == len(planned),
                "planned_runs": [s.name for s in planned],
                "heads": summarize(records),
                "train_seconds_total": sum(r["wall_seconds"] for r in records),
            }
        )
        studylib.write_json(study.results / "accuracy.json", result)
    study.say(f"wrote {study.results / 'accuracy.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
