"""Why is CIFAR-10 accuracy where it is? Under- or overfitting, per run.

For each finished run of accuracy.py: the accuracy without augmentation on a
fixed slice of the *training* images (every 5th sorted file: 10,000) beside
the test accuracy (the whole test folder). Training accuracy far above test:
the model overfits (regularize); close to test and far from 100 %: the
model has not fitted its training data yet, and the budget (epochs) or the
model's capacity limits the accuracy, not the recipe's generalization.
About 40 s per run on 2 cores.

Writes results/fit_check.json.

    python experiments/fit_check.py
    python experiments/fit_check.py --tiny   # the tiny study's runs
"""

import argparse
import sys
import time

import accuracy
import studylib

TRAIN_EVERY = 5


def check(study, spec, record, cifar_dir, train_every=TRAIN_EVERY):
    """The row of one finished run."""
    model = studylib.load_run_model(study, spec)
    train, train_count = studylib.folder_accuracy(
        model, cifar_dir / "train", train_every
    )
    test, test_count = studylib.folder_accuracy(model, cifar_dir / "test")
    return {
        "run": spec.name,
        "head": spec.head,
        "epochs": record["epochs"],
        "train_accuracy": train,
        "train_images": train_count,
        "test_accuracy": test,
        "test_images": test_count,
        "gap": train - test,
        "recorded_test_accuracy": record["test_accuracy"],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    studylib.add_common_arguments(parser)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    study = studylib.Study.from_args(args)
    studylib.configure_threads()
    rows = []
    for spec in accuracy.specs(study):
        path = study.run_result_path(spec)
        if not path.is_file():
            study.say(f"{spec.name}: not finished, skipped")
            continue
        rows.append(check(study, spec, studylib.read_json(path), study.cifar_dir()))
        study.say(
            "{run}: clean training accuracy {train_accuracy:.4f}, "
            "test {test_accuracy:.4f}".format(**rows[-1])
        )
    result = studylib.header(study, "fit_check", started)
    result.update(
        {
            "question": "is the CIFAR-10 accuracy limited by fitting (training "
            "accuracy close to test, far from 1) or by generalization (far above)?",
            "train_slice": f"every {TRAIN_EVERY}th sorted file of train/<class>/",
            "rows": rows,
        }
    )
    studylib.write_json(study.results / "fit_check.json", result)
    study.say(f"wrote {study.results / 'fit_check.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
