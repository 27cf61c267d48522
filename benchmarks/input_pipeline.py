"""Does the input pipeline keep up with training? Images/second of both.

On the shared CIFAR-10 image folder (../shared/data, unpacked to a temporary
folder), measure in one run:

1. `load_data` on the folder (listing + the decode check of every file);
2. the batched, augmented ("cifar": pad, random crop, flip) training
   pipeline of `build_pipeline` alone: the first pass (decode + cache +
   augment) and, after it, cached passes (augment only);
3. `model.fit` of a `cifar_resnet20` LFI-CAM model on that pipeline, after a
   warm-up fit (tracing);

and print images/second and the ratio pipeline / model (above 1: the model
never waits for data). `--threads both` repeats the measurement in child
processes with TensorFlow's default thread pools and with 1 inter-op /
2 intra-op threads, so the two settings are compared side by side.

    python benchmarks/input_pipeline.py                      # train split
    python benchmarks/input_pipeline.py --split test --steps 30 --threads both
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _unpack(split, root):
    archive = SHARED_DATA / f"cifar10_jpeg_{split}.tar.gz"
    if not archive.is_file():
        sys.exit(f"{archive} is absent: this benchmark needs the shared CIFAR-10 copy.")
    start = time.perf_counter()
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="data")
    folder = pathlib.Path(root) / "cifar10"
    folder.mkdir()
    # load_data wants train/ and test/: the measured split serves as both.
    for name in ("train", "test"):
        (folder / name).symlink_to(pathlib.Path(root) / split, target_is_directory=True)
    return folder, time.perf_counter() - start


def measure(folder, batch_size, steps, passes, threads):
    """One measurement; returns a dict of numbers."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    if threads == "1x2":
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(2)
    import lficam_tf
    from lficam_tf.data import build_pipeline, load_data

    result = {"threads": threads}
    start = time.perf_counter()
    bundle = load_data(str(folder))
    result["load_seconds"] = time.perf_counter() - start
    result["images"] = bundle.train_size

    pipeline = build_pipeline(bundle.train, batch_size, True, augmentation="cifar")
    timings = []
    for _ in range(1 + passes):
        start = time.perf_counter()
        count = 0
        for images, _ in pipeline:
            count += int(images.shape[0])
        timings.append(time.perf_counter() - start)
    result["pipeline_first_pass_ips"] = count / timings[0]
    result["pipeline_cached_ips"] = count * passes / sum(timings[1:])

    model = lficam_tf.build_model("cifar_resnet20", num_classes=bundle.num_classes)
    model.compile()
    warmup = 5
    repeated = pipeline.repeat()
    model.fit(repeated, epochs=1, steps_per_epoch=warmup, verbose=0)
    start = time.perf_counter()
    model.fit(repeated, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - start
    result["model_fit_ips"] = steps * batch_size / seconds
    result["ratio_cached_pipeline_to_model"] = (
        result["pipeline_cached_ips"] / result["model_fit_ips"]
    )
    result["ratio_first_pass_to_model"] = (
        result["pipeline_first_pass_ips"] / result["model_fit_ips"]
    )
    return result


def _report(result):
    print(
        f"[threads={result['threads']}] load_data: {result['load_seconds']:.1f} s for "
        f"{result['images']} images | pipeline first pass (decode+cache+augment): "
        f"{result['pipeline_first_pass_ips']:,.0f} img/s | pipeline cached (augment): "
        f"{result['pipeline_cached_ips']:,.0f} img/s | model.fit: "
        f"{result['model_fit_ips']:,.0f} img/s | ratio cached/model: "
        f"{result['ratio_cached_pipeline_to_model']:.1f}x, first pass/model: "
        f"{result['ratio_first_pass_to_model']:.1f}x",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--split",
        choices=("train", "test"),
        default="train",
        help="which CIFAR-10 split to read (default: train, 50,000 images)",
    )
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50, help="timed model.fit steps")
    parser.add_argument(
        "--passes", type=int, default=2, help="timed cached pipeline passes"
    )
    parser.add_argument(
        "--threads",
        choices=("default", "1x2", "both"),
        default="1x2",
        help="TF thread pools: TF's default, 1 inter-op x 2 intra-op, or both",
    )
    parser.add_argument("--folder", help=argparse.SUPPRESS)  # child processes
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.folder:
        result = measure(
            args.folder, args.batch_size, args.steps, args.passes, args.threads
        )
        print(json.dumps(result) if args.json else result)
        return

    with tempfile.TemporaryDirectory() as root:
        folder, seconds = _unpack(args.split, root)
        print(
            f"unpacked CIFAR-10 {args.split} in {seconds:.1f} s; batch {args.batch_size}, "
            f"{args.steps} timed fit steps",
            flush=True,
        )
        settings = ("default", "1x2") if args.threads == "both" else (args.threads,)
        for threads in settings:
            # A fresh process per setting: thread pools are fixed at TF start.
            command = [
                sys.executable,
                __file__,
                "--folder",
                str(folder),
                "--json",
                "--threads",
                threads,
                "--batch-size",
                str(args.batch_size),
                "--steps",
                str(args.steps),
                "--passes",
                str(args.passes),
            ]
            output = subprocess.run(
                command,
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(REPO)},
            )
            _report(json.loads(output.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    main()
