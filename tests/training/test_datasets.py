"""train() on each kind of source: a TFDS dataset (tfds.testing.mock_data),
a generated image folder, and the shared CIFAR-10 test split when present;
plus mixed precision and XLA."""

import json

import keras
import numpy as np
import pytest
from PIL import Image
from tfds_testing import mock_examples, prepare_metadata

from lficam_tf.training import train

QUIET = {"verbose": 0, "threads": "tf", "attention_images": 4, "warmup_epochs": 0.0}


def _check_outputs(run, metrics):
    for name in (
        "config.json",
        "model.keras",
        "best.keras",
        "attention.png",
        "metrics.json",
        "training_log.csv",
        "serving/1/saved_model.pb",
    ):
        assert (run / name).is_file(), name
    assert json.loads((run / "metrics.json").read_text()) == json.loads(
        json.dumps(metrics)
    )


@pytest.mark.slow
def test_tfds_dataset(tmp_path):
    prepare_metadata(tmp_path / "tfds", "cifar10", {"train": 50, "test": 20})
    with mock_examples(tmp_path / "tfds", num_examples=24):
        result = train(
            dataset="cifar10",
            data_dir=str(tmp_path / "tfds"),
            epochs=1,
            batch_size=8,
            output_dir=str(tmp_path / "run"),
            **QUIET,
        )
    metrics = result.metrics
    assert metrics["dataset"] == "cifar10" and metrics["num_classes"] == 10
    assert metrics["image_size"] == [32, 32]
    assert metrics["test_size"] == 20 and metrics["train_size"] == 50
    # No masks for TFDS data: no pointing game, but maps in attention.png.
    assert metrics["energy_pointing_game"] is None and metrics["mask_fraction"] is None
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert result.model.output["logits"].shape[-1] == 10
    _check_outputs(tmp_path / "run", metrics)


def _image_folder(root, classes=("disc", "bar"), per_class=(12, 6), size=24):
    """Class 0: a bright disc; class 1: a bright bar; on noise, random place."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    for split, count in zip(("train", "test"), per_class):
        for label, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                image = rng.uniform(0, 80, (size, size, 3))
                cy, cx = rng.integers(6, size - 6, 2)
                if label == 0:
                    shape = (yy - cy) ** 2 + (xx - cx) ** 2 < 16
                else:
                    shape = (abs(yy - cy) < 2) & (abs(xx - cx) < 6)
                image[shape] = 230
                suffix = "png" if i % 2 else "jpg"
                Image.fromarray(image.astype("uint8")).save(folder / f"{i}.{suffix}")
    return root


@pytest.mark.slow
def test_image_folder(tmp_path):
    folder = _image_folder(tmp_path / "images")
    result = train(
        dataset=str(folder),
        image_size=32,
        epochs=2,
        batch_size=8,
        output_dir=str(tmp_path / "run"),
        head="baseline",
        **QUIET,
    )
    metrics = result.metrics
    assert metrics["num_classes"] == 2 and metrics["image_size"] == [32, 32]
    assert (metrics["train_size"], metrics["test_size"]) == (24, 12)
    # A baseline model has no map of its own: Grad-CAM explains it.
    assert metrics["map_method"] == "gradcam" and metrics["head"] == "baseline"
    assert metrics["best_epoch"] in (1, 2)
    _check_outputs(tmp_path / "run", metrics)


@pytest.mark.slow
def test_shared_cifar10_test_split(cifar10_test_folder, tmp_path):
    # The shared test split serves as both splits (subsets of it).
    root = tmp_path / "cifar10"
    root.mkdir()
    (root / "train").symlink_to(cifar10_test_folder)
    (root / "test").symlink_to(cifar10_test_folder)
    result = train(
        dataset=str(root),
        num_train=128,
        num_test=64,
        epochs=1,
        batch_size=32,
        augmentation="cifar",
        output_dir=str(tmp_path / "run"),
        **QUIET,
    )
    metrics = result.metrics
    assert metrics["num_classes"] == 10 and metrics["image_size"] == [32, 32]
    assert (metrics["train_size"], metrics["test_size"]) == (128, 64)
    _check_outputs(tmp_path / "run", metrics)


@pytest.mark.slow
def test_mixed_precision(tmp_path):
    precision = "float16"  # with loss scaling; "bfloat16" needs none
    result = train(
        num_train=32,
        num_test=16,
        image_size=32,
        epochs=1,
        batch_size=16,
        mixed_precision=precision,
        output_dir=str(tmp_path / "run"),
        **QUIET,
    )
    model = result.model
    assert model.dtype_policy.name == f"mixed_{precision}"
    if precision == "float16":  # Keras scales the loss by itself
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert np.isfinite(result.history["loss"]).all()
    assert result.metrics["energy_pointing_game"] is not None
    # The global policy is restored for the caller.
    assert keras.config.dtype_policy().name == "float32"


@pytest.mark.slow
def test_jit_compile_and_mixup(tmp_path):
    result = train(
        num_train=32,
        num_test=16,
        image_size=32,
        epochs=1,
        batch_size=16,
        jit_compile=True,
        mixup=0.2,
        cutmix=1.0,
        output_dir=str(tmp_path / "run"),
        **QUIET,
    )
    assert result.model.jit_compile
    assert isinstance(result.model.loss["logits"], keras.losses.CategoricalCrossentropy)
    assert np.isfinite(result.history["loss"]).all()
    assert 0 <= result.metrics["test_accuracy"] <= 1
