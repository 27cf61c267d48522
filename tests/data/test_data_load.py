"""`load_data`: the "shapes" source, dispatch between kinds, bad arguments."""

import numpy as np
import pytest

from lficam_tf.data import SHAPES_CLASS_NAMES, DataBundle, generate_shapes, load_data


def test_shapes_bundle_matches_generator_and_masks_align():
    bundle = load_data("shapes", image_size=32, seed=2, num_train=20, num_test=10)
    assert isinstance(bundle, DataBundle)
    assert bundle.name == "shapes" and bundle.class_names == SHAPES_CLASS_NAMES
    assert bundle.num_classes == 6 and bundle.image_shape == (32, 32, 3)
    assert (bundle.train_size, bundle.test_size) == (20, 10)
    images, labels, masks = generate_shapes(10, 32, seed=2, split="test")
    got = list(bundle.test)
    np.testing.assert_array_equal(
        np.stack([x.numpy() for x, _ in got]), images.astype("float32")
    )
    np.testing.assert_array_equal([int(y) for _, y in got], labels)
    np.testing.assert_array_equal(bundle.test_masks, masks)
    assert got[0][0].dtype.name == "float32" and got[0][1].dtype.name == "int32"
    # Train and test are different images.
    train_images = np.stack([x.numpy() for x, _ in bundle.train])
    assert not np.any(np.all(train_images[:10] == images, axis=(1, 2, 3)))
    assert "test_masks=(10, 32, 32)" in repr(bundle)


def test_unknown_source_lists_the_kinds():
    with pytest.raises(
        ValueError, match=r"Unknown data source 'cifar1O'. Did you mean 'cifar10'"
    ) as info:
        load_data("cifar1O")
    message = str(info.value)
    for kind in (
        "'shapes'",
        "a TFDS dataset name",
        "cats_vs_dogs",
        "tfds.list_builders()",
        "image folder",
    ):
        assert kind in message


def test_missing_path_like_source_is_a_missing_folder(tmp_path):
    for source in (str(tmp_path / "cifar"), "./no_such_folder", "data/cifar10_jpeg"):
        with pytest.raises(FileNotFoundError, match=r"does not exist"):
            load_data(source)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"source": 10}, TypeError, r"`source` must be a str"),
        (
            {"source": "shapes", "data_dir": "/tmp"},
            ValueError,
            r"`data_dir` applies to TFDS datasets only",
        ),
        (
            {"source": "shapes", "data_dir": 3},
            TypeError,
            r"`data_dir` must be a str or None",
        ),
        (
            {"source": "shapes", "num_train": 0},
            ValueError,
            r"`num_train` must be at least 1",
        ),
        (
            {"source": "shapes", "num_test": "5"},
            TypeError,
            r"`num_test` must be an int or None",
        ),
        ({"source": "shapes", "seed": -1}, ValueError, r"`seed` must be at least 0"),
        (
            {"source": "shapes", "seed": "1"},
            TypeError,
            r"`seed` must be an int\. Received: seed='1'",
        ),
        (
            {"source": "shapes", "image_size": "64"},
            TypeError,
            r"`image_size` must be None, an int or",
        ),
        (
            {"source": "shapes", "image_size": (0, 4)},
            ValueError,
            r"`image_size` must be at least 8x8: the finest backbones",
        ),
        ({"source": ""}, ValueError, r"Unknown data source ''"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_data(**kwargs)
