"""Run exported SavedModels with TensorFlow alone: no keras, no lficam_tf.

Used by test_outside_keras.py in a separate process:

    python serve_without_keras.py REQUEST_DIR OUT_DIR EXPORT_DIR...

REQUEST_DIR holds `images_float.npy`, `images_uint8.npy` and `file_<i>.bin`
(encoded images). For every export and each of its `serving_*` signatures,
the outputs go to `OUT_DIR/<export folder's parent name>-<signature>.npz`,
and `OUT_DIR/report.json` lists the signatures and the modules loaded.

`import tensorflow` imports `keras.src.optimizers` whenever Keras is
installed (pip's tensorflow depends on keras), so this process makes
`keras`, `tf_keras` and `lficam_tf` unimportable first, as in a runtime
that has TensorFlow only (or TF Serving, which has no Python at all).
"""

import sys

BLOCKED = ("keras", "tf_keras", "lficam_tf")


def main(request_dir, out_dir, *export_dirs):
    for name in BLOCKED:
        sys.modules[name] = None  # `import keras` now raises ImportError.

    import json
    import pathlib

    import numpy as np
    import tensorflow as tf

    request_dir, out_dir = pathlib.Path(request_dir), pathlib.Path(out_dir)
    files = sorted(request_dir.glob("file_*.bin"), key=lambda p: int(p.stem[5:]))
    inputs = {
        "serving_default": {"images": np.load(request_dir / "images_float.npy")},
        "serving_uint8": {"images": np.load(request_dir / "images_uint8.npy")},
        "serving_bytes": {"image_bytes": [p.read_bytes() for p in files]},
    }
    report = {"signatures": {}}
    for export_dir in map(pathlib.Path, export_dirs):
        model = tf.saved_model.load(str(export_dir))
        name = export_dir.parent.name
        report["signatures"][name] = sorted(model.signatures)
        for signature, request in inputs.items():
            out = model.signatures[signature](
                **{k: tf.constant(v) for k, v in request.items()}
            )
            arrays = {}
            for key, value in out.items():
                value = value.numpy()
                if value.dtype == object:
                    value = value.astype(str)
                arrays[key] = value
            np.savez(out_dir / f"{name}-{signature}.npz", **arrays)
    report["loaded"] = sorted(
        module
        for module, value in sys.modules.items()
        if value is not None and module.split(".")[0] in BLOCKED
    )
    (out_dir / "report.json").write_text(json.dumps(report))
    if report["loaded"]:
        sys.exit(f"Modules that must not be loaded were: {report['loaded']}")


if __name__ == "__main__":
    main(*sys.argv[1:])
