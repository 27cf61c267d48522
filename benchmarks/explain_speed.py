"""Explanation speed (maps per second) and Score-CAM's memory per chunk size.

1. Speed: `predict` (one compiled forward pass, the yardstick), LFI-CAM's
   own map (one forward pass) and every post-hoc method of
   `lficam_tf.explain` (Grad-CAM, HiResCAM, Grad-CAM element-wise,
   Grad-CAM++, XGrad-CAM, LayerCAM, Eigen-CAM, EigenGrad-CAM, Score-CAM on
   every channel, Faster Score-CAM on `top_n`, Ablation-CAM), on
   `cifar_resnet20` (32x32) or, with `--model resnet50`, on ResNet-50 at
   224 (random weights: the cost does not depend on them), all in one
   process. Post-hoc methods explain F' = (1 + A) F (the default layer),
   whose gradient is the classifier's alone; one extra row explains the
   backbone's F, whose gradient also runs through the Feature Importance
   Network. Rounds are interleaved (each round runs every method once, in a
   rotated order) and the median time per batch reported, since the machine
   is shared and noisy; methods slower than `--slow-seconds` per batch run
   only in the first round. Compare numbers of one run only.
2. Memory: Score-CAM on a layer of `--channels` channels (default 1024) for
   two chunk sizes, each in a fresh subprocess. On a GPU: the peak of
   `tf.config.experimental.get_memory_info`; on the CPU: the process's peak
   resident memory (`resource.getrusage`) minus its resident memory just
   before the Score-CAM call (model built, one forward pass done, Score-CAM's
   function traced; its first run still includes graph optimisation).

    python benchmarks/explain_speed.py
    python benchmarks/explain_speed.py --batch 32 --rounds 5 --top-n 8
    python benchmarks/explain_speed.py --model resnet50 --batch 4 --rounds 3 --skip-memory
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
    from lficam_tf.choices import POST_HOC_METHODS
    from lficam_tf.explain import get_explainer

    if args.threads != "default":
        inter, intra = (int(v) for v in args.threads.split(","))
        tf.config.threading.set_inter_op_parallelism_threads(inter)
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    size = 32 if args.model == "cifar_resnet20" else 224
    num_classes = 10 if args.model == "cifar_resnet20" else 1000
    model = lficam_tf.build_model(args.model, num_classes=num_classes)
    images = (
        np.random.default_rng(0)
        .uniform(0, 255, (args.batch, size, size, 3))
        .astype("float32")
    )
    targets = np.full((args.batch,), -1, "int32")
    forward = tf.function(
        lambda x: model(x, training=False)["logits"],
        input_signature=[tf.TensorSpec((None, size, size, 3), tf.float32)],
    )
    backbone_out = args.model + (
        "/stage3_block3_out" if args.model == "cifar_resnet20" else "/conv5_block3_out"
    )
    methods = {
        "predict (forward pass)": lambda x, t: (forward(x), None, None),
        "LFI-CAM (native)": get_explainer(model, "lficam"),
    }
    for method in POST_HOC_METHODS:
        options = {}
        if method == "scorecam":
            options = {"chunk_size": args.chunk_size}
        elif method == "ablationcam":
            options = {"chunk_size": args.ablation_chunk_size}
        methods[TITLES[method]] = get_explainer(model, method, **options)
        if method == "gradcam":
            methods["Grad-CAM at F (backbone output)"] = get_explainer(
                model, "gradcam", layer=backbone_out
            )
        if method == "scorecam":
            methods[f"Faster Score-CAM (top {args.top_n})"] = get_explainer(
                model, "scorecam", chunk_size=args.chunk_size, top_n=args.top_n
            )
    methods["Grad-CAM, aug_smooth"] = get_explainer(model, "gradcam", aug_smooth=True)
    methods["Grad-CAM, eigen_smooth"] = get_explainer(
        model, "gradcam", eigen_smooth=True
    )
    if args.only:
        methods = {
            name: f
            for name, f in methods.items()
            if name.startswith("predict") or any(o in name for o in args.only)
        }
    times = {name: [] for name in methods}
    for name, explainer in methods.items():  # trace and warm up (timed once)
        start = time.perf_counter()
        np.asarray(explainer(images, targets)[0])
        times[name].append(time.perf_counter() - start)
    slow = {name for name in methods if times[name][0] > args.slow_seconds}
    times = {name: [] for name in methods}
    names = list(methods)
    for round_ in range(args.rounds):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            if name in slow and times[name]:
                continue
            start = time.perf_counter()
            maps = methods[name](images, targets)[0]
            np.asarray(maps)
            times[name].append(time.perf_counter() - start)
    predict = statistics.median(times[names[0]])
    print(
        f"\nSpeed: {args.model} LFI-CAM model ({size}x{size}), batch {args.batch}, "
        f"median of {args.rounds} interleaved rounds (slow methods: 1), threads "
        f"{args.threads}, device "
        f"{'GPU' if tf.config.list_physical_devices('GPU') else 'CPU'}"
    )
    print(f"{'method':34s} {'s/batch':>9s} {'maps/s':>9s} {'speed vs predict':>17s}")
    for name in names:
        t = statistics.median(times[name])
        print(f"{name:34s} {t:9.4f} {args.batch / t:9.1f} {predict / t:16.3f}x")


#: Row titles of the post-hoc methods.
TITLES = {
    "gradcam": "Grad-CAM",
    "hirescam": "HiResCAM",
    "gradcam-elementwise": "Grad-CAM element-wise",
    "gradcam++": "Grad-CAM++",
    "xgradcam": "XGrad-CAM",
    "layercam": "LayerCAM",
    "eigencam": "Eigen-CAM",
    "eigengradcam": "EigenGrad-CAM",
    "scorecam": "Score-CAM (every channel)",
    "ablationcam": "Ablation-CAM (every channel)",
}


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
    parser.add_argument(
        "--model", choices=("cifar_resnet20", "resnet50"), default="cifar_resnet20"
    )
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--chunk-size", type=int, default=64, help="Score-CAM, speed part"
    )
    parser.add_argument("--top-n", type=int, default=8)
    parser.add_argument(
        "--ablation-chunk-size", type=int, default=256, help="Ablation-CAM"
    )
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=20.0,
        help="methods whose first batch takes longer are timed once",
    )
    parser.add_argument(
        "--only", nargs="+", help="time only rows whose name contains one of these"
    )
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
