"""TFDS datasets through `load_data`, with `tfds.testing.mock_data`
(see tests/tfds_testing.py)."""

import numpy as np
import pytest
from tfds_testing import mock_examples, prepare_metadata

from lficam_tf.data import build_pipeline, load_data


def test_cifar10_splits_labels_and_shapes(tmp_path):
    prepare_metadata(tmp_path, "cifar10", {"train": 50, "test": 20})
    with mock_examples(tmp_path):
        bundle = load_data("cifar10", data_dir=str(tmp_path))
        assert bundle.name == "cifar10"
        assert bundle.num_classes == 10 and len(bundle.class_names) == 10
        assert bundle.image_shape == (32, 32, 3)
        assert (bundle.train_size, bundle.test_size) == (50, 20)
        assert bundle.test_masks is None
        images, labels = zip(*list(bundle.test))
        assert len(images) == 6  # mock_data's examples
        for image, label in zip(images, labels):
            assert image.dtype.name == "float32" and image.shape == (32, 32, 3)
            assert label.dtype.name == "int32" and 0 <= int(label) < 10
            assert float(np.min(image)) >= 0 and float(np.max(image)) <= 255
        x, y = next(iter(build_pipeline(bundle.train, 4, True, augmentation="cifar")))
        assert x.shape == (4, 32, 32, 3) and y.shape == (4,)


def test_train_only_dataset_holds_out_a_slice_and_sizes_vary(tmp_path):
    # cats_vs_dogs: a "train" split only, images of varying sizes.
    prepare_metadata(tmp_path, "cats_vs_dogs", {"train": 40})
    with mock_examples(tmp_path):
        bundle = load_data("cats_vs_dogs", data_dir=str(tmp_path))
        assert (bundle.train_size, bundle.test_size) == (36, 4)  # 90% / 10%
        assert bundle.num_classes == 2 and bundle.image_shape is None
        image, label = next(iter(bundle.test))
        assert image.shape[-1] == 3 and label.dtype.name == "int32"
        for training in (True, False):
            pipeline = build_pipeline(
                bundle.train, 3, training, image_size=(24, 24), augmentation="imagenet"
            )
            x, _ = next(iter(pipeline))
            assert x.shape == (3, 24, 24, 3)
        resized = load_data("cats_vs_dogs", data_dir=str(tmp_path), image_size=(20, 30))
        assert resized.image_shape == (20, 30, 3)
        assert next(iter(resized.train))[0].shape == (20, 30, 3)


def test_validation_split_grey_images_and_subsets(tmp_path):
    # mnist is grey (28, 28, 1): converted to RGB. Its "test" split is
    # renamed "validation" here to check the fallback.
    prepare_metadata(tmp_path, "mnist", {"train": 30, "validation": 12})
    with mock_examples(tmp_path, num_examples=8):
        bundle = load_data("mnist", data_dir=str(tmp_path), num_train=5, num_test=3)
        assert bundle.image_shape == (28, 28, 3)
        assert (bundle.train_size, bundle.test_size) == (5, 3)
        assert len(list(bundle.train)) == 5 and len(list(bundle.test)) == 3
        image, _ = next(iter(bundle.test))
        np.testing.assert_array_equal(image[..., 0], image[..., 2])


def test_not_prepared_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'cifar100' is not prepared") as info:
        load_data("cifar100", data_dir=str(tmp_path))
    message = str(info.value)
    assert f"tfds build cifar100 --data_dir={tmp_path}" in message
    assert "download_and_prepare()" in message and "--data-dir" in message


def test_not_prepared_manual_dataset_says_manual_download(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"needs a manual download.*downloads/manual"
    ):
        load_data("imagenet2012", data_dir=str(tmp_path))


def test_dataset_without_test_or_train_split(tmp_path):
    prepare_metadata(tmp_path, "cifar10", {"test": 10})
    with (
        mock_examples(tmp_path),
        pytest.raises(ValueError, match=r"'cifar10' has no 'train' split.*\['test'\]"),
    ):
        load_data("cifar10", data_dir=str(tmp_path))
