"""The performance table of docs/PERFORMANCE.md: training, inference, explanation.

Everything is measured side by side in one run of this script, since
absolute speed on a shared machine varies by 2x between days: every
training configuration runs in a fresh subprocess (thread pools can only be
set before TensorFlow starts), configurations are interleaved (a, b, c, a,
b, c, ...) and each is repeated; the table gives the median and the spread
of the repeats, and the ratios are taken between medians of the same run.

1. Training (`model.fit` on numpy arrays of random images, float32, batch
   128 at 32x32, the package's `compile()` defaults: SGD 0.1, momentum 0.9,
   weight decay 1e-4, cross-entropy on the logits; thread pools as
   `lficam_tf.training.configure_threads("auto")` sets them): a plain Keras
   ResNet (Conv/BN/ReLU/Add, 'same' padding: the in-repo reference), the
   package's baseline head and its LFI-CAM head on the same backbone. Peak
   resident memory of each training process is reported beside its speed,
   and the multiply-adds of the FIN against those of the backbone.
2. Inference and explanation, per model in one process, interleaved rounds:
   `model.predict`, `lficam_tf.explain(model, images)` called once per
   batch as a user or a serving loop calls it, and the exported SavedModel's
   `serving_default` (what TF Serving runs).
3. Post-hoc methods beside LFI-CAM's own map: Grad-CAM, Grad-CAM++,
   Score-CAM, Faster Score-CAM (maps per second).
4. `keras.applications` backbones at 224 (`--sections backbones`, issue 20):
   for `resnet50`, `densenet121`, `mobilenetv2`, `efficientnetb0` and
   `convnext_tiny`, the baseline head, LFI-CAM with the paper's K -> K FIN
   (`fin_width=None`) and LFI-CAM with the package's default FIN (the
   bottleneck of `lficam_tf.layers.scaled_fin_width`), each in a fresh
   process, interleaved: training img/s (step-timed, batch 16), `predict`
   img/s, parameters, peak memory of the training process and the size of
   the exported SavedModel. `--sections backbones-predict` measures
   `predict` again with every head of a backbone in one process, interleaved
   round by round: one timing per process swings by 30 % here.

Prints the tables and writes them as JSON (`--out`).

    python benchmarks/performance.py                     # everything, ~40 min on 2 cores
    python benchmarks/performance.py --sections train --repeats 3
    python benchmarks/performance.py --quick             # a smoke run of every section
    python benchmarks/performance.py --sections backbones --repeats 2   # issue 20's table
"""

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Training configurations: name -> (backbone, head, image size, batch).
TRAIN_CONFIGS = {
    "plain ResNet-20": ("plain_resnet20", None, 32, 128),
    "cifar_resnet20 baseline": ("cifar_resnet20", "baseline", 32, 128),
    "cifar_resnet20 LFI-CAM": ("cifar_resnet20", "lficam", 32, 128),
    "plain ResNet-110": ("plain_resnet110", None, 32, 128),
    "cifar_resnet110 baseline": ("cifar_resnet110", "baseline", 32, 128),
    "cifar_resnet110 LFI-CAM": ("cifar_resnet110", "lficam", 32, 128),
    "resnet50 baseline": ("resnet50", "baseline", 224, 16),
    "resnet50 LFI-CAM": ("resnet50", "lficam", 224, 16),
    "resnet50 LFI-CAM-conv": ("resnet50", "lficam", 224, 16),
}

#: Configurations whose FIN computes its convolutions another way than
#: `FeatureImportanceNetwork(implementation="auto")` chooses (the same
#: sums): `LFI-CAM-conv` is ResNet-50's FIN with `keras.ops.conv`, the
#: implementation before "auto" chose matrix products for wide kernels.
FIN_IMPLEMENTATION = {"resnet50 LFI-CAM-conv": "conv"}

#: The authors' PyTorch code, measured on this machine kind on the day of
#: issue 8, as a ratio to a Keras model measured in the same run (absolute
#: speeds differ by 2x between days; ratios carry over): LFI-CAM ResNet-20
#: at 382-393 img/s beside a plain Keras ResNet-20 at 477, LFI-CAM
#: ResNet-110 at 34.9 beside the package's baseline ResNet-110 at 39.3.
AUTHORS_RELATIVE = {
    "cifar_resnet20 LFI-CAM": ("plain ResNet-20", 387.5 / 477),
    "cifar_resnet110 LFI-CAM": ("cifar_resnet110 baseline", 34.9 / 39.3),
}

#: Inference / explanation configurations: name -> (backbone, size, batch).
INFER_CONFIGS = {
    "cifar_resnet20 @32, batch 32": ("cifar_resnet20", 32, 32),
    "cifar_resnet20 @32, batch 128": ("cifar_resnet20", 32, 128),
    "resnet50 @224, batch 16": ("resnet50", 224, 16),
}


# === Models ===


def plain_resnet(depth, num_classes=10):
    """A plain Keras CIFAR ResNet: the reference the package is compared with.

    Conv/BN/ReLU/Add with Keras' 'same' padding and default initialisers,
    basic blocks below depth 44 and bottlenecks from 44 on, as the package's
    `cifar_resnet<depth>`; no attention.
    """
    import keras

    layers = keras.layers
    bottleneck = depth >= 44
    n = (depth - 2) // 6

    def conv_bn(x, filters, kernel, stride, relu=True):
        x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(epsilon=1e-5, momentum=0.9)(x)
        return layers.ReLU()(x) if relu else x

    inputs = keras.Input((32, 32, 3))
    x = conv_bn(layers.Rescaling(1 / 255.0)(inputs), 16, 3, 1)
    for planes, first_stride in ((16, 1), (32, 2), (64, 2)):
        out = planes * (4 if bottleneck else 1)
        for index in range(n):
            stride = first_stride if index == 0 else 1
            shortcut = x
            if stride != 1 or x.shape[-1] != out:
                shortcut = conv_bn(x, out, 1, stride, relu=False)
            if bottleneck:
                y = conv_bn(x, planes, 1, 1)
                y = conv_bn(y, planes, 3, stride)
                y = conv_bn(y, out, 1, 1, relu=False)
            else:
                y = conv_bn(x, planes, 3, stride)
                y = conv_bn(y, planes, 3, 1, relu=False)
            x = layers.ReLU()(layers.Add()([y, shortcut]))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(
        inputs, layers.Dense(num_classes)(x), name=f"plain_resnet{depth}"
    )


def build(backbone, head, size):
    """`(model, compiled)`: the package's model and compile() defaults."""
    import keras

    import lficam_tf

    if backbone.startswith("plain_resnet"):
        model = plain_resnet(int(backbone[len("plain_resnet") :]))
        # The same optimizer and loss as the package's compile() default.
        reference = lficam_tf.build_model("cifar_resnet20", 10, head="baseline")
        reference.compile()
        model.compile(
            optimizer=reference.optimizer.__class__.from_config(
                reference.optimizer.get_config()
            ),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")],
        )
        return model
    model = lficam_tf.build_model(backbone, 10, head=head, input_shape=(size, size, 3))
    model.compile()
    return model


def multiply_adds(model):
    """Multiply-adds per image: `{"backbone": int, "fin": int}`.

    Counted from the layers' shapes, not measured: out_h * out_w * k_h *
    k_w * c_in * c_out / groups for every convolution of the backbone (the
    whole model for the plain references), out_h * out_w * k_h * k_w * c_in
    * multiplier for depthwise ones, out_h * out_w * in * out for a dense
    layer on feature maps (ConvNeXt's pointwise layers), and the kernels'
    sizes times h * w for the Feature Importance Network on h x w x K
    feature maps.
    """
    import keras

    def conv_macs(functional):
        total = 0
        for layer in functional.layers:
            if isinstance(layer, keras.Model):
                total += conv_macs(layer)
            elif isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
                # Conv2D kernels hold c_in / groups; depthwise ones c_in x multiplier.
                _, oh, ow, _ = layer.output.shape
                total += oh * ow * int(keras.ops.size(layer.kernel))
            elif isinstance(layer, keras.layers.Dense) and len(layer.output.shape) == 4:
                _, oh, ow, _ = layer.output.shape
                total += oh * ow * int(keras.ops.size(layer.kernel))
        return total

    backbone = getattr(model, "backbone", model)
    fin = getattr(model, "feature_importance", None)
    fin_macs = 0
    if fin is not None:
        _, h, w, _ = backbone.output.shape
        fin_macs = sum(h * w * int(keras.ops.size(c.kernel)) for c in fin.convs)
    return {"backbone": int(conv_macs(backbone)), "fin": int(fin_macs)}


def _random_data(size, count, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (count, size, size, 3)).astype("float32")
    labels = rng.integers(0, 10, count).astype("int32")
    return images, labels


def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# === Children (one configuration each, fresh process) ===


def train_child(name, steps, threads, options=None):
    """Train `name` on random data; print images/s and memory as JSON.

    `options` (a dict, for the settings study of docs/PERFORMANCE.md):
    `jit_compile` (XLA), `steps_per_execution`, `mixed_precision` (a Keras
    dtype policy name), `dataset` (True: a `tf.data` pipeline of in-memory
    batches instead of numpy arrays).
    """
    options = options or {}
    import resource

    from lficam_tf.training import configure_threads
    from lficam_tf.training.callbacks import Throughput

    pools = configure_threads(threads)
    backbone, head, size, batch = TRAIN_CONFIGS[name]
    size = options.get("image_size") or size
    if options.get("mixed_precision"):
        import keras

        keras.mixed_precision.set_global_policy(options["mixed_precision"])
    model = build(backbone, head, size)
    if name in FIN_IMPLEMENTATION:
        # Read when the training step is traced, at the first fit.
        model.feature_importance.implementation = FIN_IMPLEMENTATION[name]
    if options.get("jit_compile") or options.get("steps_per_execution"):
        model.compile(
            optimizer=model.optimizer,
            loss=model.loss,
            metrics=[keras_metric_accuracy()],
            jit_compile=bool(options.get("jit_compile")),
            steps_per_execution=options.get("steps_per_execution", 1),
        )
    images, labels = _random_data(size, batch * steps)
    if options.get("dataset"):
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch)
        data = data.cache().prefetch(tf.data.AUTOTUNE)
        fit_args = {"x": data}
        warmup_args = {"x": data.take(2)}
    else:
        fit_args = {"x": images, "y": labels, "batch_size": batch}
        warmup_args = {
            "x": images[: 2 * batch],
            "y": labels[: 2 * batch],
            "batch_size": batch,
        }
    # Warm-up: trace the step and settle the allocator (two steps).
    model.fit(**warmup_args, verbose=0)
    rss_before = _rss_mib()
    # Timed as train_tf.py times its epochs: from the first step's end to
    # the last's. `fit`'s own wall time also counts the end of the epoch,
    # where TensorFlow 2.21 can wait up to ~10 s for tf.data's autotuning
    # thread when it deletes the epoch's iterator (docs/PERFORMANCE.md).
    throughput = Throughput(batch)
    start = time.perf_counter()
    model.fit(**fit_args, epochs=1, verbose=0, callbacks=[throughput])
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "images_per_second": throughput.images_per_second,
        "fit_images_per_second": batch * steps / seconds,
        "peak_rss_mib": peak,
        "rss_before_fit_mib": rss_before,
        "threads": list(pools),
        "multiply_adds": multiply_adds(model),
        "image_size": size,
    }


def keras_metric_accuracy():
    import keras

    return keras.metrics.SparseCategoricalAccuracy("accuracy")


def infer_child(name, rounds, threads, batches):
    """predict vs explain vs serving_default on one model, interleaved.

    Each round pushes the same `batches` batches through each path:
    `model.predict` on all of them at once (its best case: one call), and
    `lficam_tf.explain` and the SavedModel's `serving_default` called once
    per batch, as a user's loop or a server calls them.
    """
    import tensorflow as tf

    import lficam_tf
    from lficam_tf.training import configure_threads

    configure_threads(threads)
    backbone, size, batch = INFER_CONFIGS[name]
    model = lficam_tf.build_model(backbone, 10, input_shape=(size, size, 3))
    images, _ = _random_data(size, batch * batches)
    chunks = [images[i : i + batch] for i in range(0, len(images), batch)]
    with tempfile.TemporaryDirectory() as folder:
        lficam_tf.export(model, folder, version=1)
        serving = tf.saved_model.load(os.path.join(folder, "1"))
    serve = serving.signatures["serving_default"]
    (input_name,) = serve.structured_input_signature[1]

    def run_predict():
        model.predict(images, batch_size=batch, verbose=0)

    def run_explain():
        for chunk in chunks:
            lficam_tf.explain(model, chunk, batch_size=batch)

    def run_serving():
        for chunk in chunks:
            serve(**{input_name: tf.constant(chunk)})["attention"].numpy()

    methods = {"predict": run_predict, "explain": run_explain, "serving": run_serving}
    for method in methods.values():  # trace, warm up
        method()
    times = {key: [] for key in methods}
    keys = list(methods)
    for round_ in range(rounds):
        for key in keys[round_ % 3 :] + keys[: round_ % 3]:
            start = time.perf_counter()
            methods[key]()
            times[key].append(time.perf_counter() - start)
    return {
        key: {
            "images_per_second": len(images) / statistics.median(values),
            "runs": [len(images) / v for v in values],
        }
        for key, values in times.items()
    }


def posthoc_child(rounds, threads, batch):
    """Maps/s of LFI-CAM's map vs the post-hoc methods on cifar_resnet20."""
    import numpy as np

    import lficam_tf
    from lficam_tf.explain import get_explainer
    from lficam_tf.training import configure_threads

    configure_threads(threads)
    model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
    images, _ = _random_data(32, batch)
    targets = np.full((batch,), -1, "int32")
    methods = {
        "LFI-CAM (native)": get_explainer(model, "lficam"),
        "Grad-CAM": get_explainer(model, "gradcam"),
        "Grad-CAM++": get_explainer(model, "gradcam++"),
        "Score-CAM": get_explainer(model, "scorecam"),
        "Faster Score-CAM (top 8)": get_explainer(model, "scorecam", top_n=8),
    }
    for explainer in methods.values():
        explainer(images, targets)[0].numpy()
    times = {key: [] for key in methods}
    keys = list(methods)
    for round_ in range(rounds):
        shift = round_ % len(keys)
        for key in keys[shift:] + keys[:shift]:
            start = time.perf_counter()
            methods[key](images, targets)[0].numpy()
            times[key].append(time.perf_counter() - start)
    return {
        key: {"maps_per_second": batch / statistics.median(values)}
        for key, values in times.items()
    }


#: The `keras.applications` backbones of the backbone table (section 4).
BACKBONES_224 = (
    "resnet50",
    "densenet121",
    "mobilenetv2",
    "efficientnetb0",
    "convnext_tiny",
)

#: The heads of the backbone table: label -> (head, fin_width).
BACKBONE_HEADS = {
    "baseline": ("baseline", "auto"),
    "LFI-CAM, paper FIN": ("lficam", None),
    "LFI-CAM, default FIN": ("lficam", "auto"),
}


def _folder_mib(folder):
    return (
        sum(p.stat().st_size for p in pathlib.Path(folder).rglob("*") if p.is_file())
        / 2**20
    )


def backbone_child(
    backbone, label, size, batch, steps, predict_batches, threads, export
):
    """One head on one `keras.applications` backbone: train, predict, export.

    Training is step-timed as `train_child` (two warm-up steps first), on
    random images with the package's `compile()` defaults; the peak memory
    is read right after it. `predict` then runs `predict_batches` batches
    (after one warm-up call). With `export`, the SavedModel of
    `lficam_tf.export` is written to a temporary folder and its size read.
    """
    import resource

    import lficam_tf
    from lficam_tf.training import configure_threads
    from lficam_tf.training.callbacks import Throughput

    configure_threads(threads)
    head, fin_width = BACKBONE_HEADS[label]
    model = lficam_tf.build_model(
        backbone, 10, head=head, input_shape=(size, size, 3), fin_width=fin_width
    )
    model.compile()
    fin = getattr(model, "feature_importance", None)
    images, labels = _random_data(size, batch * max(steps, predict_batches))
    train_images, train_labels = images[: batch * steps], labels[: batch * steps]
    model.fit(images[: 2 * batch], labels[: 2 * batch], batch_size=batch, verbose=0)
    throughput = Throughput(batch)
    model.fit(
        train_images,
        train_labels,
        batch_size=batch,
        epochs=1,
        verbose=0,
        callbacks=[throughput],
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    predict_images = images[: batch * predict_batches]
    model.predict(predict_images[:batch], batch_size=batch, verbose=0)
    start = time.perf_counter()
    model.predict(predict_images, batch_size=batch, verbose=0)
    predict_speed = len(predict_images) / (time.perf_counter() - start)
    result = {
        "train_images_per_second": throughput.images_per_second,
        "predict_images_per_second": predict_speed,
        "parameters": int(model.count_params()),
        "fin_parameters": int(fin.count_params()) if fin is not None else 0,
        "fin_width": fin.width if fin is not None else None,
        "peak_rss_mib": peak,
        "multiply_adds": multiply_adds(model),
    }
    if export:
        with tempfile.TemporaryDirectory() as folder:
            lficam_tf.export(model, folder, version=1)
            result["saved_model_mib"] = _folder_mib(folder)
    return result


def backbones_predict_child(backbone, size, batch, rounds, batches, threads):
    """`predict` img/s of every head of `BACKBONE_HEADS` on one backbone,
    in one process, interleaved round by round (the order rotates), so that
    the ratios do not carry the drift between processes: the median of
    `rounds` rounds of `batches` batches each, after one warm-up call."""
    import lficam_tf
    from lficam_tf.training import configure_threads

    configure_threads(threads)
    models = {
        label: lficam_tf.build_model(
            backbone, 10, head=head, input_shape=(size, size, 3), fin_width=fin_width
        )
        for label, (head, fin_width) in BACKBONE_HEADS.items()
    }
    images, _ = _random_data(size, batch * batches)
    for model in models.values():
        model.predict(images[:batch], batch_size=batch, verbose=0)
    times = {label: [] for label in models}
    labels = list(models)
    for round_ in range(rounds):
        shift = round_ % len(labels)
        for label in labels[shift:] + labels[:shift]:
            start = time.perf_counter()
            models[label].predict(images, batch_size=batch, verbose=0)
            times[label].append(time.perf_counter() - start)
    return {
        label: {
            "images_per_second": len(images) / statistics.median(values),
            "runs": [len(images) / v for v in values],
        }
        for label, values in times.items()
    }


def macs_child(backbone, size):
    """Multiply-adds and parameters of every head of `BACKBONE_HEADS` (built, not run)."""
    import lficam_tf

    out = {}
    for label, (head, fin_width) in BACKBONE_HEADS.items():
        model = lficam_tf.build_model(
            backbone, 10, head=head, input_shape=(size, size, 3), fin_width=fin_width
        )
        out[label] = {
            "multiply_adds": multiply_adds(model),
            "parameters": int(model.count_params()),
        }
    return out


CHILDREN = {
    "backbones_predict": backbones_predict_child,
    "macs": macs_child,
    "train": train_child,
    "infer": infer_child,
    "posthoc": posthoc_child,
    "backbones": backbone_child,
}


def _child(kind, *args):
    """Run one child in a fresh interpreter and return its JSON result."""
    command = [sys.executable, os.path.abspath(__file__), "--child", kind]
    command += ["--child-args", json.dumps(args)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO)
    out = subprocess.run(command, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(
            f"benchmark child {kind} {args} failed:\n{out.stderr[-3000:]}"
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


# === Tables ===


def _spread(values):
    """(max - min) / median: the spread of the repeats."""
    return (max(values) - min(values)) / statistics.median(values)


def run_train(args, report):
    names = [n for n in TRAIN_CONFIGS if any(p in n for p in args.train)]
    runs = {name: [] for name in names}
    for _ in range(args.repeats):
        for name in names:
            small = TRAIN_CONFIGS[name][2] == 32
            steps = args.steps if small else args.steps_224
            options = None if small else {"image_size": args.size_224}
            runs[name].append(_child("train", name, steps, args.threads, options))
    rows = {}
    for name, results in runs.items():
        speeds = [r["images_per_second"] for r in results]
        rows[name] = {
            "images_per_second": statistics.median(speeds),
            "runs": speeds,
            "spread": _spread(speeds),
            "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in results),
            "multiply_adds": results[0]["multiply_adds"],
            "threads": results[0]["threads"],
            "image_size": results[0]["image_size"],
        }
    for name, row in rows.items():
        backbone, head = name.rsplit(" ", 1)
        plain = rows.get(
            "plain "
            + {"cifar_resnet20": "ResNet-20", "cifar_resnet110": "ResNet-110"}.get(
                backbone, ""
            )
        )
        baseline = rows.get(f"{backbone} baseline")
        if plain and plain is not row:
            row["vs_plain"] = row["images_per_second"] / plain["images_per_second"]
        if head.startswith("LFI-CAM") and baseline:
            row["vs_baseline"] = (
                row["images_per_second"] / baseline["images_per_second"]
            )
            row["fin_overhead"] = (
                baseline["images_per_second"] / row["images_per_second"] - 1
            )
            macs = row["multiply_adds"]
            row["fin_flop_share"] = macs["fin"] / macs["backbone"]
            row["rss_vs_baseline"] = row["peak_rss_mib"] / baseline["peak_rss_mib"]
        if name in AUTHORS_RELATIVE and AUTHORS_RELATIVE[name][0] in rows:
            reference, authors = AUTHORS_RELATIVE[name]
            ours = row["images_per_second"] / rows[reference]["images_per_second"]
            row["vs_authors"] = ours / authors
    report["train"] = rows
    print(
        f"\nTraining: model.fit, float32, threads {rows[names[0]]['threads']}, "
        f"median of {args.repeats} interleaved runs (img/s)"
    )
    print(
        f"{'model':26s} {'img/s':>8s} {'spread':>7s} {'vs plain':>9s} "
        f"{'vs base':>8s} {'FIN +time':>9s} {'FIN +MACs':>9s} {'peak MiB':>9s} {'vs authors':>10s}"
    )
    for name, row in rows.items():

        def fmt(key, pattern, row=row):
            return pattern.format(row[key]) if key in row else ""

        label = name if row["image_size"] == 32 else f"{name} @{row['image_size']}"
        print(
            f"{label:26s} {row['images_per_second']:8.1f} {row['spread']:7.0%} "
            f"{fmt('vs_plain', '{:8.2f}x'):>9s} {fmt('vs_baseline', '{:7.2f}x'):>8s} "
            f"{fmt('fin_overhead', '{:+8.0%}'):>9s} {fmt('fin_flop_share', '{:+8.0%}'):>9s} "
            f"{row['peak_rss_mib']:9.0f} {fmt('vs_authors', '{:9.2f}x'):>10s}"
        )


def run_infer(args, report):
    rows = {}
    for name in INFER_CONFIGS:
        if not any(p in name for p in args.infer):
            continue
        result = _child("infer", name, args.rounds, args.threads, args.batches)
        predict = result["predict"]["images_per_second"]
        for key in ("explain", "serving"):
            result[key]["vs_predict"] = result[key]["images_per_second"] / predict
        rows[name] = result
    report["infer"] = rows
    print(f"\nInference: img/s, median of {args.rounds} interleaved rounds per model")
    print(
        f"{'model':32s} {'predict':>9s} {'explain':>9s} {'(vs)':>6s} {'serving':>9s} {'(vs)':>6s}"
    )
    for name, r in rows.items():
        print(
            f"{name:32s} {r['predict']['images_per_second']:9.1f} "
            f"{r['explain']['images_per_second']:9.1f} {r['explain']['vs_predict']:5.2f}x "
            f"{r['serving']['images_per_second']:9.1f} {r['serving']['vs_predict']:5.2f}x"
        )


def run_posthoc(args, report):
    rows = _child("posthoc", args.rounds, args.threads, args.posthoc_batch)
    native = rows["LFI-CAM (native)"]["maps_per_second"]
    for row in rows.values():
        row["vs_lficam"] = row["maps_per_second"] / native
    report["posthoc"] = rows
    print(
        f"\nExplanation methods on cifar_resnet20, batch {args.posthoc_batch}: maps/s"
    )
    for name, row in rows.items():
        print(
            f"{name:28s} {row['maps_per_second']:9.1f} {row['vs_lficam']:7.3f}x LFI-CAM"
        )


def run_backbones(args, report):
    names = [b for b in BACKBONES_224 if any(p in b for p in args.backbones)]
    runs = {(b, label): [] for b in names for label in BACKBONE_HEADS}
    for repeat in range(args.repeats):
        # Interleaved: every head of every backbone once per repeat.
        for key in runs:
            if repeat >= args.paper_repeats and BACKBONE_HEADS[key[1]][1] is None:
                continue  # the paper's FIN: 0.1-0.4x, once is enough
            runs[key].append(
                _child(
                    "backbones",
                    *key,
                    args.size_224,
                    args.batch_224,
                    max(2, args.steps_224),
                    args.batches,
                    args.threads,
                    repeat == 0 and not args.no_export,
                )
            )
    rows = {}
    for (backbone, label), results in runs.items():
        train = [r["train_images_per_second"] for r in results]
        predict = [r["predict_images_per_second"] for r in results]
        first = results[0]
        rows[f"{backbone} | {label}"] = row = {
            "backbone": backbone,
            "head": label,
            "train_images_per_second": statistics.median(train),
            "train_runs": train,
            "predict_images_per_second": statistics.median(predict),
            "predict_runs": predict,
            "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in results),
            **{
                k: first[k]
                for k in ("parameters", "fin_parameters", "fin_width", "multiply_adds")
            },
            "saved_model_mib": first.get("saved_model_mib"),
        }
        base = rows.get(f"{backbone} | baseline")
        if base is not None and base is not row:
            for key in (
                "train_images_per_second",
                "predict_images_per_second",
                "parameters",
                "peak_rss_mib",
                "saved_model_mib",
            ):
                if row.get(key) and base.get(key):
                    row[f"{key}_vs_baseline"] = row[key] / base[key]
    report["backbones"] = rows
    print(
        f"\nkeras.applications backbones at {args.size_224}x{args.size_224}, batch "
        f"{args.batch_224}, median of {args.repeats} interleaved runs; ratios to the "
        "baseline head of the same run"
    )
    print(
        f"{'backbone / head':38s} {'FIN W':>6s} {'train/s':>8s} {'(vs)':>6s} "
        f"{'pred/s':>8s} {'(vs)':>6s} {'params':>8s} {'(vs)':>6s} {'FIN MACs':>9s} "
        f"{'peak MiB':>9s} {'(vs)':>6s} {'SM MiB':>7s}"
    )
    for name, row in rows.items():

        def ratio(key, row=row):
            value = row.get(f"{key}_vs_baseline")
            return f"{value:5.2f}x" if value else ""

        macs = row["multiply_adds"]
        share = f"{macs['fin'] / macs['backbone']:+8.1%}" if macs["fin"] else ""
        width = "" if row["head"] == "baseline" else str(row["fin_width"] or "K")
        saved = f"{row['saved_model_mib']:7.0f}" if row.get("saved_model_mib") else ""
        print(
            f"{name:38s} {width:>6s} {row['train_images_per_second']:8.2f} "
            f"{ratio('train_images_per_second'):>6s} {row['predict_images_per_second']:8.2f} "
            f"{ratio('predict_images_per_second'):>6s} {row['parameters'] / 1e6:7.2f}M "
            f"{ratio('parameters'):>6s} {share:>9s} {row['peak_rss_mib']:9.0f} "
            f"{ratio('peak_rss_mib'):>6s} {saved:>7s}"
        )


def run_backbones_predict(args, report):
    rows = {}
    for backbone in BACKBONES_224:
        if not any(p in backbone for p in args.backbones):
            continue
        result = _child(
            "backbones_predict",
            backbone,
            args.size_224,
            args.batch_224,
            args.rounds,
            args.batches,
            args.threads,
        )
        macs = _child("macs", backbone, args.size_224)
        for label, row in result.items():
            row.update(macs[label])
        base = result["baseline"]["images_per_second"]
        for row in result.values():
            row["vs_baseline"] = row["images_per_second"] / base
        rows[backbone] = result
    report["backbones_predict"] = rows
    print(
        f"\npredict at {args.size_224}x{args.size_224}, batch {args.batch_224}: img/s, "
        f"median of {args.rounds} interleaved rounds of {args.batches} batches, "
        "all heads of a backbone in one process"
    )
    for backbone, result in rows.items():
        cells = "  ".join(
            f"{label} {row['images_per_second']:7.2f} ({row['vs_baseline']:.2f}x, "
            f"FIN {row['multiply_adds']['fin'] / row['multiply_adds']['backbone']:.1%} MACs)"
            for label, row in result.items()
        )
        print(f"{backbone:16s} {cells}")


def backbones_markdown(rows):
    """The backbone table (`report["backbones"]`) as Markdown, for docs/PERFORMANCE.md."""
    lines = [
        "| backbone | head | FIN width | train img/s | vs baseline | predict img/s "
        "| vs baseline | parameters | vs baseline | FIN multiply-adds / backbone's "
        "| peak memory (training) | SavedModel |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows.values():

        def ratio(key, row=row):
            value = row.get(f"{key}_vs_baseline")
            return f"{value:.2f}x" if value else ""

        macs = row["multiply_adds"]
        baseline = row["head"] == "baseline"
        width = "" if baseline else str(row["fin_width"] or "K")
        share = "" if baseline else f"{macs['fin'] / macs['backbone']:.1%}"
        saved = row.get("saved_model_mib")
        saved = "" if saved is None else f"{saved:.0f} MiB"
        lines.append(
            f"| `{row['backbone']}` | {row['head']} | {width} "
            f"| {row['train_images_per_second']:.2f} | {ratio('train_images_per_second')} "
            f"| {row['predict_images_per_second']:.2f} | {ratio('predict_images_per_second')} "
            f"| {row['parameters'] / 1e6:.2f} M | {ratio('parameters')} | {share} "
            f"| {row['peak_rss_mib']:.0f} MiB {ratio('peak_rss_mib')} | {saved} |"
        )
    return "\n".join(lines)


def machine():
    import tensorflow as tf

    try:
        with open("/proc/cpuinfo") as f:
            model_name = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in f
                    if line.startswith("model name")
                ),
                platform.processor(),
            )
    except OSError:
        model_name = platform.processor()
    return {
        "cpu": model_name,
        "cores": len(os.sched_getaffinity(0)),
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
        "gpu": bool(tf.config.list_physical_devices("GPU")),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


SECTIONS = {
    "train": run_train,
    "infer": run_infer,
    "posthoc": run_posthoc,
    "backbones": run_backbones,
    "backbones-predict": run_backbones_predict,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sections",
        nargs="+",
        default=["train", "infer", "posthoc"],
        choices=list(SECTIONS),
        help="default: train infer posthoc; 'backbones' is issue 20's table",
    )
    parser.add_argument(
        "--train",
        nargs="+",
        default=["cifar_resnet20", "ResNet-20", "110", "resnet50"],
        help="substrings of the training configurations to run (default: all)",
    )
    parser.add_argument(
        "--infer",
        nargs="+",
        default=["cifar_resnet20", "resnet50"],
        help="substrings of the inference configurations to run (default: all)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="training runs per configuration"
    )
    parser.add_argument(
        "--steps", type=int, default=12, help="timed training steps at 32x32"
    )
    parser.add_argument(
        "--steps-224", type=int, default=4, help="timed training steps at 224x224"
    )
    parser.add_argument(
        "--size-224",
        type=int,
        default=224,
        help="train the 224x224 configurations (resnet50) at this size instead: "
        "the FIN's share of the multiply-adds does not depend on it "
        "(both scale with the feature maps' area), its cost does",
    )
    parser.add_argument(
        "--backbones",
        nargs="+",
        default=list(BACKBONES_224),
        help="substrings of the backbones of --sections backbones",
    )
    parser.add_argument(
        "--batch-224", type=int, default=16, help="batch of --sections backbones"
    )
    parser.add_argument(
        "--paper-repeats",
        type=int,
        default=1,
        help="--sections backbones: runs of the paper's FIN (minutes a step on CPUs)",
    )
    parser.add_argument(
        "--no-export",
        action="store_true",
        help="--sections backbones without the SavedModel sizes",
    )
    parser.add_argument("--rounds", type=int, default=7, help="inference rounds")
    parser.add_argument(
        "--batches", type=int, default=8, help="inference: batches per round"
    )
    parser.add_argument("--posthoc-batch", type=int, default=32)
    parser.add_argument(
        "--threads", default="auto", help="'auto', 'tf' or 'INTER,INTRA'"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1 repeat, 2 steps"
    )
    parser.add_argument(
        "--out", default=os.path.join(REPO, "benchmarks", "results", "performance.json")
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-args", help=argparse.SUPPRESS)
    parser.add_argument(
        "--markdown",
        metavar="JSON",
        help="print the backbone table of a results file as Markdown and exit",
    )
    args = parser.parse_args(argv)
    if args.markdown:
        with open(args.markdown) as f:
            print(backbones_markdown(json.load(f)["backbones"]))
        return
    if args.child:
        print(json.dumps(CHILDREN[args.child](*json.loads(args.child_args))))
        return
    if args.quick:
        args.repeats, args.steps, args.steps_224, args.rounds, args.batches = (
            1,
            2,
            1,
            2,
            2,
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    report = {"machine": machine(), "arguments": vars(args)}
    start = time.perf_counter()
    for section in args.sections:
        SECTIONS[section](args, report)
    report["wall_seconds"] = time.perf_counter() - start
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"\nWrote {args.out} ({report['wall_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
