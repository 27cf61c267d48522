"""The whole study, in order: each experiment script, then the tables.

    python experiments/run_study.py --plan --measure 2560   # time it first
    nohup nice -n 5 python experiments/run_study.py > experiments/study.log 2>&1 &
    python experiments/run_study.py --tiny --results /tmp/r --runs /tmp/runs

Every step skips what is finished and resumes what was interrupted, so the
same command continues a killed study; after each step the tables of
docs/RESULTS.md are rewritten (tables.py). The order gives the most per
hour of compute first: the "shapes" experiments (every claim but accuracy,
on small models), then the CIFAR-10 accuracy runs and the checkpoints they
give, the CIFAR-10 faithfulness, and last the other CIFAR-10 stability
models (the longest step), then the checkpoints again (a stability variant
may beat the accuracy runs).

`--plan` lists every training run with its size and an estimated time,
from the measured speed of finished runs or, with `--measure N`, of one
short epoch per head on N training images (a few minutes; nothing of the
study is written).
"""

import argparse
import importlib
import json
import sys
import tempfile
import time

import studylib

#: (what, script, its arguments) in order.
STEPS = (
    ("stability on shapes", "stability", ["--dataset", "shapes"]),
    ("localization on shapes", "localization", []),
    ("faithfulness on shapes", "faithfulness", ["--dataset", "shapes"]),
    ("accuracy on CIFAR-10", "accuracy", []),
    ("fitted or not, CIFAR-10", "fit_check", []),
    ("ship the CIFAR-10 checkpoints", "ship_checkpoints", []),
    ("faithfulness on CIFAR-10", "faithfulness", ["--dataset", "cifar10"]),
    ("stability on CIFAR-10", "stability", ["--dataset", "cifar10"]),
    ("ship the best CIFAR-10 checkpoints again", "ship_checkpoints", []),
)

#: Training speeds (images/s, batch 128 / 64) when nothing is measured:
#: one epoch of 2,560 images each, measured on the shared 2-core machine on
#: 2026-11-29 (nice 10, other jobs running; `--plan --measure 2560`), at
#: 32x32 (CIFAR-10) and 64x64 (shapes; other sizes scale by pixels).
GUESSED_SPEED = {
    ("cifar10", "baseline"): 146.0,
    ("cifar10", "lficam"): 125.0,
    ("cifar10", "abn"): 81.0,
    ("shapes", "baseline"): 38.0,
    ("shapes", "lficam"): 34.0,
    ("shapes", "abn"): 22.0,
}


def all_specs(study):
    """Every training run of the study, without repeats, in step order."""
    import accuracy
    import stability

    specs = list(accuracy.specs(study))
    for dataset in ("shapes", "cifar10"):
        specs += studylib.evaluation_specs(study.size, dataset)
        specs += studylib.variant_specs(
            study.size, dataset, stability.HEADS, study.size.variants
        )
    unique = []
    for spec in specs:
        if spec not in unique:
            unique.append(spec)
    return unique


def measure(study, images):
    """Training images/s of each head and dataset: one epoch on `images`."""
    import keras

    from lficam_tf.training import train

    speeds = {}
    with tempfile.TemporaryDirectory(prefix="lficam-measure-") as tmp:
        for dataset in studylib.DATASETS:
            image_size = studylib.get_dataset(dataset).size(study.size).image_size
            for head in ("baseline", "lficam", "abn"):
                spec = studylib.RunSpec(
                    dataset, head, studylib.Variant("s0", 0), 1, image_size
                )
                config = spec.config(study).replace(
                    epochs=1,
                    num_train=images,
                    num_test=256,
                    output_dir=f"{tmp}/{dataset}-{head}",
                    verbose=0,
                )
                keras.utils.clear_session()
                start = time.perf_counter()
                metrics = train(config).metrics
                speeds[(dataset, head)] = metrics["train_images_per_second"]
                study.say(
                    f"measured {dataset} {head}: "
                    f"{metrics['train_images_per_second']:.0f} images/s "
                    f"(call {time.perf_counter() - start:.0f} s)"
                )
    return speeds


def plan(study, speeds):
    """Print every run with its estimated time; returns the total seconds."""
    measured = {}
    for path in (study.results / "runs").glob("*/*.json"):
        record = json.loads(path.read_text())
        if record["train_images_per_second"]:
            measured.setdefault((record["dataset"], record["head"]), []).append(
                record["train_images_per_second"]
            )
    total = 0.0
    print(f"{'run':36} {'images x epochs':>18} {'images/s':>9} {'estimate':>9}  state")
    for spec in all_specs(study):
        config = spec.config(study)
        key = (spec.dataset, spec.head)
        speed = speeds.get(key) or (
            sum(measured[key]) / len(measured[key]) if key in measured else None
        )
        source = "measured" if speed else "guessed"
        if not speed:
            # The guesses are at the dataset's own size: scaled by pixels.
            own = studylib.get_dataset(spec.dataset).image_size
            pixels = config.image_size or own
            reference = own[0] * own[1]
            speed = GUESSED_SPEED[key] * reference / (pixels[0] * pixels[1])
        train_size = config.num_train or 50_000
        test_size = config.num_test or 10_000
        # Evaluation each epoch runs at about 3x the training speed; finishing
        # (maps, export) costs about a minute.
        seconds = config.epochs * (train_size + test_size / 3) / speed + 60
        record = study.run_result_path(spec)
        state = "done" if record.is_file() else "to do"
        if state == "to do":
            total += seconds
        print(
            f"{spec.dataset + '/' + spec.name:36} {train_size:>9} x {config.epochs:<6} "
            f"{speed:>9.0f} {seconds / 60:>7.0f} m  {state} ({source} speed)"
        )
    print(
        f"training still to do: about {total / 3600:.1f} h, plus about 30 min of scoring"
    )
    return total


def run_steps(study_args, tables_args, say):
    for title, script, arguments in STEPS:
        say(f"=== {title}: python experiments/{script}.py {' '.join(arguments)}")
        module = importlib.import_module(script)
        module.main(arguments + study_args)
        if tables_args is not None:
            import tables

            tables.main(tables_args)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    studylib.add_common_arguments(parser)
    parser.add_argument(
        "--plan",
        action="store_true",
        help="list the runs with estimated times, and train nothing",
    )
    parser.add_argument(
        "--measure",
        type=int,
        metavar="N",
        help="with --plan: measure each head's speed on one epoch of N images",
    )
    parser.add_argument(
        "--tables",
        metavar="FILE",
        help="the Markdown file the tables go into (default: docs/RESULTS.md)",
    )
    args = parser.parse_args(argv)
    study = studylib.Study.from_args(args)
    studylib.configure_threads()
    if args.plan:
        speeds = measure(study, args.measure) if args.measure else {}
        plan(study, speeds)
        return 0
    # Every common option goes on to each step (studylib owns the list).
    study_args = studylib.common_argv(args)
    # --tiny numbers never go into docs/RESULTS.md unless --tables says so.
    tables_args = None
    if args.tables or not args.tiny:
        tables_args = ["--results", str(study.results)]
        tables_args += ["--out", args.tables] if args.tables else []
    started = time.perf_counter()
    run_steps(study_args, tables_args, study.say)
    study.say(
        f"study done in {(time.perf_counter() - started) / 3600:.2f} h (this call)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
