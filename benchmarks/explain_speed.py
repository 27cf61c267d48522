"""Explanation speed (maps per second) and Score-CAM's memory per chunk size.

1. Speed: LFI-CAM's own map (one forward pass) vs Grad-CAM, Grad-CAM++,
   Score-CAM (every channel) and Faster Score-CAM (`top_n` channels), on
   `cifar_resnet20` (32x32, random weights: the cost does not depend on
   them), all in one process. Post-hoc methods explain F' = (1 + A) F (the
   default layer), whose gradient is the classifier's alone; one extra row
   explains the backbone's F, whose gradient also runs through the Feature
   Importance Network. Rounds are interleaved (each round runs every
   method once, in a rotated order) and the median time per batch reported,
   since the machine is shared and noisy. Compare numbers of one run only.
2. Memory: Score-CAM on a layer of `--channels` channels (default 1024) for
   two chunk sizes, each in a fresh subprocess. On a GPU: the peak of
   `tf.config.experimental.get_memory_info`; on the CPU: the process's peak
   resident memory (`resource.getrusage`) minus its resident memory just
   before the Score-CAM call (model built, one forward pass done, Score-CAM's
   function traced; its first run still includes graph optimisation).

    python benchmarks/explain_speed.py
    python benchmarks/explain_speed.py --batch 32 --rounds 5 --top-n 8
    python benchmarks/explain_speed.py --skip-memory --chunk-sizes 16 256
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _memory_child(chunk_size, channels, size):
    """Child process: peak memory of one Score-CAM call, printed as JSON."""
    import resource

    import keras
    import numpy as np
    import tensorflow as tf

    from lficam_tf.explain import ScoreCAM

    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(64, 3, strides=4, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(
        channels, 3, strides=2, padding="same", activation="relu", name="wide"
    )(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10)(x))
    images = (
        np.random.default_rng(0).uniform(0, 255, (1, size, size, 3)).astype("float32")
    )
    model(images)
    cam = ScoreCAM(model, layer="wide", chunk_size=chunk_size)
    # Trace first, so that only the call's tensors count.
    cam._function.get_concrete_function()
    gpu = bool(tf.config.list_physical_devices("GPU"))
    if gpu:
        tf.config.experimental.reset_memory_stats("GPU:0")
    before = _rss_mib()
    start = time.perf_counter()
    maps, _, _ = cam(images, np.array([-1]))
    maps.numpy()
    seconds = time.perf_counter() - start
    if gpu:
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        kind = "GPU peak"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
        kind = "CPU peak RSS increase"
    print(
        json.dumps(
            {
                "chunk_size": chunk_size,
                "peak_mib": peak,
                "kind": kind,
                "seconds": seconds,
            }
        )
    )


def measure_speed(args):
    import numpy as np
    import tensorflow as tf

    import lficam_tf
    from lficam_tf.explain import get_explainer

    if args.threads != "default":
        inter, intra = (int(v) for v in args.threads.split(","))
        tf.config.threading.set_inter_op_parallelism_threads(inter)
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
    images = (
        np.random.default_rng(0)
        .uniform(0, 255, (args.batch, 32, 32, 3))
        .astype("float32")
    )
    targets = np.full((args.batch,), -1, "int32")
    methods = {
        "LFI-CAM (native)": get_explainer(model, "lficam"),
        "Grad-CAM": get_explainer(model, "gradcam"),
        "Grad-CAM at F (backbone output)": get_explainer(
            model, "gradcam", layer="cifar_resnet20/stage3_block3_out"
        ),
        "Grad-CAM++": get_explainer(model, "gradcam++"),
        f"Score-CAM (64 ch, chunk {args.chunk_size})": get_explainer(
            model, "scorecam", chunk_size=args.chunk_size
        ),
        f"Faster Score-CAM (top {args.top_n})": get_explainer(
            model, "scorecam", chunk_size=args.chunk_size, top_n=args.top_n
        ),
    }
    for explainer in methods.values():  # trace and warm up
        explainer(images, targets)[0].numpy()
    times = {name: [] for name in methods}
    names = list(methods)
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            start = time.perf_counter()
            maps, _, _ = methods[name](images, targets)
            maps.numpy()
            times[name].append(time.perf_counter() - start)
    native = statistics.median(times[names[0]])
    print(
        f"\nSpeed: cifar_resnet20 LFI-CAM model, batch {args.batch}, median of "
        f"{args.rounds} interleaved rounds, threads {args.threads}, "
        f"device {'GPU' if tf.config.list_physical_devices('GPU') else 'CPU'}"
    )
    print(f"{'method':34s} {'s/batch':>9s} {'maps/s':>9s} {'time vs LFI-CAM':>16s}")
    for name in names:
        t = statistics.median(times[name])
        print(f"{name:34s} {t:9.4f} {args.batch / t:9.1f} {t / native:15.1f}x")


def measure_memory(args):
    print(
        f"\nMemory: Score-CAM on a {args.channels}-channel layer "
        f"({args.memory_size}x{args.memory_size} input, 1 image), one subprocess per chunk size"
    )
    print(f"{'chunk_size':>10s} {'peak MiB':>10s} {'seconds':>8s}  measure")
    for chunk in args.chunk_sizes:
        out = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--memory-child",
                str(chunk),
                "--channels",
                str(args.channels),
                "--memory-size",
                str(args.memory_size),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        print(
            f"{chunk:10d} {result['peak_mib']:10.1f} {result['seconds']:8.2f}  {result['kind']}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--chunk-size", type=int, default=64, help="Score-CAM, speed part"
    )
    parser.add_argument("--top-n", type=int, default=8)
    parser.add_argument(
        "--threads", default="default", help="'default' or 'inter,intra'"
    )
    parser.add_argument("--channels", type=int, default=1024, help="memory part")
    parser.add_argument(
        "--memory-size", type=int, default=128, help="memory part: input size"
    )
    parser.add_argument("--chunk-sizes", type=int, nargs=2, default=[16, 256])
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child is not None:
        _memory_child(args.memory_child, args.channels, args.memory_size)
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not args.skip_speed:
        measure_speed(args)
    if not args.skip_memory:
        measure_memory(args)


if __name__ == "__main__":
    main()
