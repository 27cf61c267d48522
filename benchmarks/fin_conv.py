"""The FIN's 3x3 convolutions: `keras.ops.conv` against one matrix product.

`FeatureImportanceNetwork(implementation="auto")` computes a convolution as
a matrix product over the nine shifted maps (`lficam_tf.ops.conv3x3_as_matmul`)
when its kernel has at least 1024 x 1024 channels, with `keras.ops.conv`
otherwise. This script measures the choice: four K -> K convolutions with a
ReLU, forward and backward (the input's and the kernels' gradients, as in
training), on the FIN shapes of the package's backbones, both ways,
interleaved, in one process; it prints ms per step, GFLOP/s and the ratio,
and writes JSON.

    python benchmarks/fin_conv.py                                   # every shape, ~10 min on 2 cores
    python benchmarks/fin_conv.py --shapes 128x8x8x256 16x7x7x2048 --rounds 3

A shape is `batch x h x w x K`.
"""

import argparse
import json
import os
import statistics
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: FIN input shapes (batch x h x w x K) of the package's backbones at their
#: training batch: ResNet-20, ResNet-110 (32x32, batch 128), ResNet-18 at
#: 224 (batch 32), ResNeXt-29 (batch 32 here: 128 takes minutes a step),
#: ResNet-50 at 224 and at 112 (batch 16).
SHAPES = (
    "128x8x8x64",
    "128x8x8x256",
    "32x7x7x512",
    "32x8x8x1024",
    "16x7x7x2048",
    "16x4x4x2048",
)


def measure(shape, rounds, steps):
    import tensorflow as tf
    from keras import ops

    from lficam_tf.ops import conv3x3_as_matmul

    batch, height, width, channels = shape
    x = tf.random.stateless_normal(shape, seed=(0, 1))
    kernels = [
        tf.Variable(
            tf.random.stateless_normal((3, 3, channels, channels), seed=(1, i)) * 0.05
        )
        for i in range(4)
    ]
    ways = {
        "conv": lambda y, k: ops.conv(y, k, padding="same"),
        "matmul": conv3x3_as_matmul,
    }

    def step_of(convolve):
        @tf.function
        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = x
                for kernel in kernels:
                    y = tf.nn.relu(convolve(y, kernel))
                loss = tf.reduce_sum(y)
            return tape.gradient(loss, [x] + kernels)

        return step

    steps_of = {name: step_of(fn) for name, fn in ways.items()}
    difference = float(
        tf.reduce_max(
            tf.abs(ways["conv"](x, kernels[0]) - ways["matmul"](x, kernels[0]))
        )
    )
    for step in steps_of.values():  # trace and warm up
        step(x)
    seconds = {name: [] for name in ways}
    for _ in range(rounds):
        for name, step in steps_of.items():
            start = time.perf_counter()
            for _ in range(steps):
                grads = step(x)
            _ = [g.numpy() for g in grads]
            seconds[name].append((time.perf_counter() - start) / steps)
    # Forward and backward: 3x the forward's 2 * multiply-adds.
    flops = 4 * 2 * batch * height * width * 9 * channels * channels * 3
    row = {"max_abs_difference": difference}
    for name, values in seconds.items():
        median = statistics.median(values)
        row[name] = {"ms_per_step": 1000 * median, "gflops": flops / median / 1e9}
    row["matmul_speedup"] = row["conv"]["ms_per_step"] / row["matmul"]["ms_per_step"]
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2, help="steps per timing")
    parser.add_argument(
        "--out", default=os.path.join(REPO, "benchmarks", "results", "fin_conv.json")
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from lficam_tf.training import configure_threads

    threads = configure_threads("auto")
    report = {"threads": list(threads), "rounds": args.rounds, "shapes": {}}
    print(
        f"{'B x h x w x K':>14s} {'conv ms':>9s} {'GFLOP/s':>8s} {'matmul ms':>10s} "
        f"{'GFLOP/s':>8s} {'matmul speed-up':>16s}"
    )
    for text in args.shapes:
        shape = tuple(int(v) for v in text.split("x"))
        row = measure(shape, args.rounds, args.steps)
        report["shapes"][text] = row
        print(
            f"{text:>14s} {row['conv']['ms_per_step']:9.1f} {row['conv']['gflops']:8.1f} "
            f"{row['matmul']['ms_per_step']:10.1f} {row['matmul']['gflops']:8.1f} "
            f"{row['matmul_speedup']:15.2f}x",
            flush=True,
        )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
