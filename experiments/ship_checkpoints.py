"""Step 5: ship the best CIFAR-10 `cifar_resnet20` of each head with the package.

Among the finished CIFAR-10 runs of the study (accuracy.py and
stability.py; `results/runs/cifar10/*.json`), takes for each head the run of
the highest final test accuracy, saves the whole classifier's weights to
`lficam_tf/weights/cifar_resnet20_<head>_cifar10.weights.h5` (what
`build_model("cifar_resnet20", 10, head=..., weights="cifar10")` loads),
loads them back by name, measures the test accuracy on the full CIFAR-10
test folder and on its fixed slice (every 10th sorted file, 1,000 images:
what the tests check), and writes:

    lficam_tf/weights/manifest.json   file, sha256, accuracies, run, recipe
    results/shipped.json              the same, with every candidate run
    README.md                         the table between the
                                      <!-- shipped-checkpoints --> markers

Choosing on test accuracy makes the shipped figure slightly optimistic (the
best of several runs); the mean over seeds is in results/accuracy.json.

    python experiments/ship_checkpoints.py
    python experiments/ship_checkpoints.py --tiny   # into results/weights/
"""

import argparse
import hashlib
import json
import os
import pathlib
import sys
import time

import studylib

HEADS = ("lficam", "abn", "baseline")
BACKBONE = "cifar_resnet20"
README_BLOCK = "shipped-checkpoints"


def candidates(study):
    """Finished CIFAR-10 `cifar_resnet20` run records, by head."""
    found = {head: [] for head in HEADS}
    folder = study.results / "runs" / "cifar10"
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text())
        if record["recipe"]["backbone"] == BACKBONE and record["head"] in found:
            found[record["head"]].append(record)
    return found


def readme_table(manifest):
    """The README's table of the shipped checkpoints."""
    lines = [
        "| head | test accuracy (10,000 images) | fixed slice (1,000 images) | file | recipe |",
        "|---|---|---|---|---|",
    ]
    for name, entry in manifest.items():
        recipe = entry["recipe"]
        lines.append(
            f"| `{entry['head']}` | {100 * entry['test_accuracy']:.2f} % "
            f"| {100 * entry['slice']['accuracy']:.2f} % "
            f"| `{name}` ({entry['bytes'] / 2**20:.1f} MB) "
            f"| {recipe['epochs']} epochs, SGD lr {recipe['learning_rate']:g}, "
            f"wd {recipe['weight_decay']:g}, batch {recipe['batch_size']}, "
            f"seed {recipe['seed']} |"
        )
    return "\n".join(lines)


def _sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def ship(study, spec, record, weights_dir, test_dir):
    """Save, reload by name, measure; returns the manifest entry."""
    import numpy as np

    from lficam_tf import presets as weights_lib
    from lficam_tf.models.build import build_model

    trained = studylib.load_run_model(study, spec)
    name = weights_lib.named_weights_file_name("cifar10", BACKBONE, spec.head)
    path = pathlib.Path(weights_dir) / name
    # Written beside and renamed (Keras wants the name to end in .weights.h5).
    tmp = path.with_name(f".partial-{os.getpid()}-{name}")
    try:
        studylib.save_model_weights(trained, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if pathlib.Path(weights_dir).resolve() == weights_lib.PRETRAINED_DIR.resolve():
        shipped = build_model(BACKBONE, 10, head=spec.head, weights="cifar10")
    else:  # --tiny: the same loading, from the folder given.
        shipped = weights_lib.load_classifier_weights(
            build_model(BACKBONE, 10, head=spec.head), path
        )
    probe = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    if tuple(trained.inputs[0].shape[1:3]) == (32, 32):
        difference = float(
            np.max(
                np.abs(
                    np.asarray(trained(probe)["logits"])
                    - np.asarray(shipped(probe)["logits"])
                )
            )
        )
        if difference > 1e-5:
            raise RuntimeError(
                f"{name}: the reloaded model differs from the trained one by "
                f"{difference:g}"
            )
    accuracy, count = studylib.folder_accuracy(shipped, test_dir, every=1)
    slice_accuracy, slice_count = studylib.folder_accuracy(shipped, test_dir, every=10)
    study.say(
        f"shipped {name}: test accuracy {accuracy:.4f} ({count} images), "
        f"slice {slice_accuracy:.4f} ({slice_count})"
    )
    return name, {
        "dataset": "cifar10",
        "backbone": BACKBONE,
        "head": spec.head,
        "num_classes": 10,
        "class_names": list(weights_lib.CIFAR10_CLASS_NAMES),
        "test_accuracy": accuracy,
        "test_images": count,
        "slice": {
            "every": 10,
            "images": slice_count,
            "accuracy": slice_accuracy,
            "files": "every 10th file of the sorted test/<class>/<file>.jpg",
        },
        "training_test_accuracy": record["test_accuracy"],
        "run": f"cifar10/{record['run']}",
        "recipe": record["recipe"],
        "sha256": _sha256(path),
        "bytes": path.stat().st_size,
    }


def main(argv=None):
    from lficam_tf import presets as weights_lib

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    studylib.add_common_arguments(parser)
    parser.add_argument(
        "--weights-dir",
        metavar="DIR",
        help="where the weights and manifest go (default: the package's "
        "lficam_tf/weights/; --tiny: <results>/weights/)",
    )
    parser.add_argument(
        "--readme",
        metavar="FILE",
        help="README to update (default: the repository's; --tiny: none)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    study = studylib.Study.from_args(args)
    weights_dir = pathlib.Path(
        args.weights_dir
        or (
            study.results / "weights"
            if args.tiny
            else studylib.REPO / "lficam_tf" / "weights"
        )
    )
    readme = args.readme or (None if args.tiny else studylib.REPO / "README.md")
    weights_dir.mkdir(parents=True, exist_ok=True)
    test_dir = study.cifar_dir() / "test"

    found = candidates(study)
    manifest = weights_lib.read_manifest(weights_dir)
    chosen = {}
    for head in HEADS:
        if not found[head]:
            study.say(f"no finished CIFAR-10 {BACKBONE} run of head {head!r} yet")
            continue
        best = max(found[head], key=lambda r: (r["test_accuracy"], r["run"]))
        image_size = best["recipe"]["image_size"]
        spec = studylib.RunSpec(
            "cifar10",
            head,
            studylib.Variant(**best["variant"]),
            best["epochs"],
            image_size[0] if image_size else None,
        )
        name = weights_lib.named_weights_file_name("cifar10", BACKBONE, head)
        previous = manifest.get(name)
        if (
            previous
            and previous["run"] == f"cifar10/{best['run']}"
            and (weights_dir / name).is_file()
            and _sha256(weights_dir / name) == previous["sha256"]
        ):
            chosen[head] = best["run"]
            continue  # Already shipped.
        name, entry = ship(study, spec, best, weights_dir, test_dir)
        manifest[name] = entry
        chosen[head] = best["run"]
        studylib.write_json(weights_dir / weights_lib.MANIFEST_NAME, manifest)
    if readme is not None and manifest:
        studylib.update_file_block(readme, README_BLOCK, readme_table(manifest))
    result = studylib.header(study, "shipped_checkpoints", started)
    result.update(
        {
            "weights_dir": studylib.rel(weights_dir),
            "chosen": chosen,
            "candidates": {
                head: {r["run"]: r["test_accuracy"] for r in records}
                for head, records in found.items()
            },
            "manifest": manifest,
        }
    )
    studylib.write_json(study.results / "shipped.json", result)
    study.say(f"wrote {study.results / 'shipped.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
