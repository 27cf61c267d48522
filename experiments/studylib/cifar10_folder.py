"""The CIFAR-10 image folder (`train/<class>/*.jpg`, `test/<class>/*.jpg`):
unpacked once from the shared tarballs, a fixed slice of its files, and a
model's accuracy on them (fit_check.py, ship_checkpoints.py, the tests of
the shipped checkpoints)."""

import os
import pathlib
import shutil
import tarfile
import tempfile
import time

from studylib.paths import CACHE, SHARED_DATA


def unpack_cifar10(shared_data=SHARED_DATA, cache=CACHE, say=None):
    """The CIFAR-10 image folder `<cache>/cifar10_jpeg` (train/, test/).

    Unpacked once from `<shared_data>/cifar10_jpeg_{train,test}.tar.gz` into
    a temporary folder that is renamed when complete, so a killed unpack
    never looks finished; later calls return the folder at once.
    """
    target = pathlib.Path(cache) / "cifar10_jpeg"
    if (target / "train").is_dir() and (target / "test").is_dir():
        return target
    shared_data = pathlib.Path(shared_data)
    archives = [
        shared_data / f"cifar10_jpeg_{split}.tar.gz" for split in ("train", "test")
    ]
    missing = [str(a) for a in archives if not a.is_file()]
    if missing:
        raise FileNotFoundError(
            f"The CIFAR-10 tarballs are absent: {', '.join(missing)}. Pass "
            "--shared-data DIR (the folder holding cifar10_jpeg_train.tar.gz "
            "and cifar10_jpeg_test.tar.gz) or --cifar-dir DIR (an unpacked "
            "image folder with train/ and test/)."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix=".cifar10_jpeg.partial-", dir=target.parent)
    try:
        for archive in archives:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if say:
        say(f"unpacked CIFAR-10 into {target} in {time.perf_counter() - start:.0f} s")
    return target


def slice_files(test_dir, every=10):
    """`(paths, labels, class names)`: every `every`-th file of the sorted
    CIFAR-10 test files (`test/<class>/<file>`); every=10 is the fixed
    1,000-image slice the tests check the shipped checkpoints on."""
    test_dir = pathlib.Path(test_dir)
    class_names = sorted(p.name for p in test_dir.iterdir() if p.is_dir())
    files = sorted(test_dir.glob("*/*.jpg"))
    chosen = files[::every]
    labels = [class_names.index(p.parent.name) for p in chosen]
    return [str(p) for p in chosen], labels, class_names


def folder_accuracy(model, test_dir, every=1, batch_size=250):
    """`(accuracy, number of images)` of `model` on `slice_files(...)`,
    decoded as the package's image folders decode them (TensorFlow's
    decoder, RGB 0..255, 32x32 as stored) and prepared by the package's
    evaluation pipeline (`lficam_tf.data.build_pipeline`, which resizes them
    for a model of another input size, as the tiny study's 16x16)."""
    import numpy as np
    import tensorflow as tf

    from lficam_tf.data import build_pipeline

    paths, labels, _ = slice_files(test_dir, every)

    def read(path, label):
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=3, expand_animations=False
        )
        return tf.ensure_shape(image, (32, 32, 3)), label

    files = tf.data.Dataset.from_tensor_slices((paths, labels)).map(read)
    batches = build_pipeline(
        files,
        batch_size,
        training=False,
        image_size=tuple(model.inputs[0].shape[1:3]),
        cache=False,
    )
    correct = 0
    for images, batch_labels in batches:
        logits = model(images, training=False)["logits"]
        correct += int(
            np.sum(np.argmax(np.asarray(logits), axis=-1) == batch_labels.numpy())
        )
    return correct / len(labels), len(labels)
