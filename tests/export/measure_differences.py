"""Print the largest differences between the exports and the Keras model.

    python tests/export/measure_differences.py

Builds the models of the export tests (cifar_resnet20, 10 classes; the
LFI-CAM one trained 4 steps), exports each as a SavedModel and as TFLite,
and prints, per output, the largest absolute difference from the Keras
model and numpy (the references of tests/export/conftest.py). The numbers
in docs/serving.md come from this script.
"""

import importlib.util
import pathlib
import tempfile
import warnings


def main():
    import keras
    import numpy as np
    import tensorflow as tf

    import lficam_tf
    from lficam_tf.export import export, to_tflite

    spec = importlib.util.spec_from_file_location(
        "export_conftest", pathlib.Path(__file__).with_name("conftest.py")
    )
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (32, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    keras.utils.set_random_seed(0)
    requests = ref.requests.__wrapped__()
    root = pathlib.Path(tempfile.mkdtemp())

    def report(label, out, expected):
        diffs = {
            k: float(np.abs(np.asarray(out[k], np.float64) - v).max())
            for k, v in expected.items()
            if k != "classes"
        }
        same = np.array_equal(np.asarray(out["classes"]), expected["classes"])
        print(label, {k: f"{v:.1e}" for k, v in diffs.items()}, "same classes:", same)

    for head in ref.HEADS:
        model = lficam_tf.build_model("cifar_resnet20", num_classes=10, head=head)
        if head == "lficam":
            model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9))
            model.fit(x, y, batch_size=8, verbose=0)
        signatures = tf.saved_model.load(
            str(export(model, root / head, top_k=ref.TOP_K))
        ).signatures
        cases = [
            ("serving_default", {"images": requests["float"]}, requests["float"]),
            ("serving_uint8", {"images": requests["uint8"]}, requests["float"]),
            (
                "serving_bytes",
                {"image_bytes": list(requests["bytes"])},
                requests["decoded"],
            ),
        ]
        for name, inputs, images in cases:
            out = signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
            report(f"{head} {name}", out, ref.expected_outputs(model, images))
        path = to_tflite(model, root / f"{head}.tflite", top_k=ref.TOP_K)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runner = tf.lite.Interpreter(str(path)).get_signature_runner()
        out = runner(images=requests["float"])
        report(
            f"{head} tflite ({path.stat().st_size / 1e6:.2f} MB)",
            out,
            ref.expected_outputs(model, requests["float"]),
        )


if __name__ == "__main__":
    main()
