"""Training speed of a model: training images/s under TensorFlow thread settings.

Used to choose the default recipe (`--preset shapes`) and the default thread
pools of `lficam_tf.training` (`threads="auto"`). The input pipeline's own
speed against the model's is measured by `benchmarks/input_pipeline.py`.

Prints one line per measurement. Every model measurement runs in a fresh
subprocess, because TensorFlow's thread pools can only be set before its
runtime starts; the configurations are interleaved (a, b, a, b, ...) and the
median is reported, since the machine is shared and noisy. Compare numbers
from one run of this script only.

    python benchmarks/train_speed.py                      # default model, thread settings
    python benchmarks/train_speed.py --models cifar_resnet20@64 cifar_resnet20@64:fin_width=32
    python benchmarks/train_speed.py --threads default 1,2 2,2 --repeats 3

A model is `backbone@size[:option=value,...]` with options of
`lficam_tf.build_model` (head, fin_width, fin_depth, stem_stride), and
`precision=bfloat16` or `precision=float16` for Keras mixed precision
(`--mixed-precision` of train_tf.py):

    python benchmarks/train_speed.py --threads 1,2 --batch-size 128 \
        --models cifar_resnet20@32:head=lficam cifar_resnet20@32:head=lficam,precision=bfloat16
A thread setting is `default` (TensorFlow's own) or `inter,intra`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _parse_model(text):
    name, _, options = text.partition(":")
    backbone, _, size = name.partition("@")
    kwargs = {}
    for item in filter(None, options.split(",")):
        key, _, value = item.partition("=")
        kwargs[key] = value if key in ("head", "precision") else int(value)
    return backbone, int(size or 32), kwargs


def _measure_model(args):
    """Child process: train steps on random data held in memory."""
    threads = args.child_threads
    import tensorflow as tf

    if threads != "default":
        inter, intra = (int(v) for v in threads.split(","))
        tf.config.threading.set_inter_op_parallelism_threads(inter)
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    import keras
    import numpy as np

    import lficam_tf

    backbone, size, kwargs = _parse_model(args.child_model)
    precision = kwargs.pop("precision", None)
    if precision:
        keras.config.set_dtype_policy(f"mixed_{precision}")
    model = lficam_tf.build_model(
        backbone, num_classes=10, input_shape=(size, size, 3), **kwargs
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=args.jit)
    rng = np.random.default_rng(0)
    batch = args.batch_size
    images = rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")
    labels = rng.integers(0, 10, batch).astype("int32")
    # Autotuning off, as in the package's pipelines: deleting an autotuned
    # iterator at the end of `fit` can wait up to ~10 s for the autotuning
    # thread (docs/PERFORMANCE.md), which would be timed here.
    options = tf.data.Options()
    options.autotune.enabled = False
    data = tf.data.Dataset.from_tensors((images, labels)).repeat().with_options(options)
    model.fit(data, steps_per_epoch=args.warmup_steps, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=args.steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    print(json.dumps({"images_per_second": args.steps * batch / seconds}))


def _run_child(model, threads, args):
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--child-model",
        model,
        "--child-threads",
        threads,
        "--batch-size",
        str(args.batch_size),
        "--steps",
        str(args.steps),
        "--warmup-steps",
        str(args.warmup_steps),
    ] + (["--jit"] if args.jit else [])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["images_per_second"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["cifar_resnet20@64"])
    parser.add_argument("--threads", nargs="+", default=["default", "1,2"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup-steps", type=int, default=5)
    parser.add_argument("--jit", action="store_true", help="XLA-compile the step")
    parser.add_argument("--child-model", help=argparse.SUPPRESS)
    parser.add_argument("--child-threads", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_model:
        _measure_model(args)
        return

    rates = {(m, t): [] for m in args.models for t in args.threads}
    for _ in range(args.repeats):
        for model in args.models:
            for threads in args.threads:
                rates[(model, threads)].append(_run_child(model, threads, args))
    for (model, threads), values in rates.items():
        print(
            f"train {model:40s} threads={threads:8s} batch={args.batch_size}"
            f"{' jit' if args.jit else ''}: {statistics.median(values):7.1f} img/s"
            f"  (runs: {', '.join(f'{v:.0f}' for v in values)})"
        )


if __name__ == "__main__":
    main()
