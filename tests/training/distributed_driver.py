"""Run by test_distributed.py in fresh processes (devices and collectives can
only be set up before TensorFlow starts).

    python distributed_driver.py mirrored OUT_DIR   # 2 logical CPUs vs 1 device
    python distributed_driver.py worker OUT_DIR     # one worker of TF_CONFIG

Each run's weights (every variable of the model) are saved as
`OUT_DIR/<name>.npz`, with its history and optimizer step count in
`OUT_DIR/<name>.json`.
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

#: A tiny, deterministic job: plain SGD, no augmentation, whole batches only.
SMALL = {
    "num_train": 64,
    "num_test": 16,
    "image_size": 32,
    "epochs": 2,
    "batch_size": 16,
    "optimizer": "sgd",
    "momentum": 0.0,
    "learning_rate": 0.001,
    "schedule": "constant",
    "warmup_epochs": 0.0,
    "attention_images": 2,
    "verbose": 0,
    "threads": "tf",
}


def save(result, out, name):
    weights = {v.path: np.asarray(v.numpy()) for v in result.model.variables}
    np.savez(out / f"{name}.npz", **weights)
    info = {
        "history": {k: [float(x) for x in v] for k, v in result.history.items()},
        "iterations": int(result.model.optimizer.iterations.numpy()),
        "metrics": result.metrics,
    }
    (out / f"{name}.json").write_text(json.dumps(info))


def main():
    mode, out = sys.argv[1], pathlib.Path(sys.argv[2])
    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    from lficam_tf.training import train

    if mode == "mirrored":
        # Two steps (one per epoch) with a small rate: early training
        # amplifies float round-off from step to step, in proportion to the
        # rate; this keeps it far below the change the steps make.
        job = dict(SMALL, num_train=16, learning_rate=1e-4)
        runs = (
            ("two", ("/cpu:0", "/cpu:1"), None),
            ("two_unsynced", ("/cpu:0", "/cpu:1"), False),
            ("one", ("/cpu:0",), None),
        )
        for name, devices, sync in runs:
            result = train(
                devices=devices, sync_batchnorm=sync, output_dir=str(out / name), **job
            )
            save(result, out, name)
        # The weights before training: the same model from the same seed.
        import keras

        from lficam_tf.training import build_run_model

        keras.utils.set_random_seed(0)
        model = build_run_model(job, 6)
        np.savez(out / "init.npz", **{v.path: v.numpy() for v in model.variables})
    else:
        index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
        result = train(output_dir=str(out / "run"), **SMALL)
        save(result, out, f"worker{index}")


if __name__ == "__main__":
    main()
