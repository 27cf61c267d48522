"""`build_pipeline`: shapes, dtypes, ranges, augmentation, MixUp / CutMix."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lficam_tf.data import build_pipeline

NUM = 12


def _dataset(height=32, width=32, num=NUM, seed=0):
    rng = np.random.default_rng(seed)
    # Integer values, as decoded images have: the pipeline stores uint8.
    images = rng.integers(1, 256, (num, height, width, 3)).astype("float32")
    labels = (np.arange(num) % 3).astype("int32")
    return images, labels, tf.data.Dataset.from_tensor_slices((images, labels))


def _collect(pipeline):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in pipeline])
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("augmentation", [None, "cifar", "imagenet"])
@pytest.mark.parametrize("training", [True, False])
def test_shapes_dtypes_ranges(augmentation, training):
    _, _, dataset = _dataset()
    pipeline = build_pipeline(dataset, 5, training, augmentation=augmentation)
    batches = list(pipeline)
    assert [int(x.shape[0]) for x, _ in batches] == [5, 5, 2]
    for x, y in batches:
        assert x.dtype == tf.float32 and x.shape[1:] == (32, 32, 3)
        assert y.dtype == tf.int32 and y.shape == (x.shape[0],)
        assert float(tf.reduce_min(x)) >= 0.0 and float(tf.reduce_max(x)) <= 255.0
    spec = pipeline.element_spec
    assert spec[0].shape.as_list() == [None, 32, 32, 3]


def test_drop_remainder_gives_static_batch_size():
    _, _, dataset = _dataset()
    pipeline = build_pipeline(dataset, 5, True, drop_remainder=True)
    assert pipeline.element_spec[0].shape.as_list() == [5, 32, 32, 3]
    assert len(list(pipeline)) == 2


def test_augmentations_are_the_training_configs_and_none_is_none():
    from lficam_tf import choices
    from lficam_tf.data import AUGMENTATIONS
    from lficam_tf.training.config import AUGMENTATIONS as CONFIG_AUGMENTATIONS

    assert CONFIG_AUGMENTATIONS is choices.AUGMENTATIONS
    assert (None, *choices.AUGMENTATIONS) == AUGMENTATIONS
    images, _, dataset = _dataset()
    x, _ = _collect(build_pipeline(dataset, 5, True, augmentation="none", seed=3))
    expected, _ = _collect(build_pipeline(dataset, 5, True, augmentation=None, seed=3))
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("augmentation", [None, "none", "cifar"])
def test_eval_keeps_images_and_order(augmentation):
    images, labels, dataset = _dataset()
    pipeline = build_pipeline(dataset, 5, False, augmentation=augmentation)
    x, y = _collect(pipeline)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_values_are_rounded_to_integers():
    images = np.full((2, 8, 8, 3), 100.4, "float32")
    images[1] = 100.6
    dataset = tf.data.Dataset.from_tensor_slices((images, np.zeros(2, "int32")))
    x, _ = _collect(build_pipeline(dataset, 2, False))
    np.testing.assert_array_equal(x[:, 0, 0, 0], [100.0, 101.0])


def test_training_shuffles_a_permutation_each_epoch():
    images, labels, dataset = _dataset(num=40)
    pipeline = build_pipeline(dataset, 8, True)
    first, y1 = _collect(pipeline)
    second, _ = _collect(pipeline)
    index = {image.tobytes(): i for i, image in enumerate(images)}
    order1 = [index[image.tobytes()] for image in first]  # same images...
    order2 = [index[image.tobytes()] for image in second]
    assert sorted(order1) == sorted(order2) == list(range(40))
    assert order1 != list(range(40)) and order1 != order2  # ...new orders
    np.testing.assert_array_equal(y1, labels[order1])  # labels travel along


def _find_window(padded, out, size=32):
    """(index, flipped, dy, dx) of `out` among the windows of `padded`."""
    for i, image in enumerate(padded):
        for flip in (False, True):
            candidate = image[:, ::-1] if flip else image
            for dy in range(candidate.shape[0] - size + 1):
                for dx in range(candidate.shape[1] - size + 1):
                    if np.array_equal(candidate[dy : dy + size, dx : dx + size], out):
                        return i, flip, dy, dx
    return None


def test_cifar_augmentation_is_a_padded_crop_and_flip():
    """Each output is a 32x32 window of the 4-pixel zero-padded input, maybe
    flipped (found by exhaustive search in numpy), and not all are the
    identity."""
    images, _, dataset = _dataset(num=16)
    x, _ = _collect(build_pipeline(dataset, 16, True, augmentation="cifar", seed=1))
    padded = np.pad(images, [(0, 0), (4, 4), (4, 4), (0, 0)])
    found = [_find_window(padded, out) for out in x]
    assert all(f is not None for f in found), "an output is no padded crop"
    assert sorted(f[0] for f in found) == list(range(16))  # each image once
    assert sum(f[1:] != (False, 4, 4) for f in found) > 8


def test_cifar_padding_scales_with_image_size():
    images, _, dataset = _dataset(64, 64, num=8)
    x, _ = _collect(build_pipeline(dataset, 8, True, augmentation="cifar", seed=2))
    # Padding is 64 / 8 = 8 pixels: zero rows or columns up to 8 deep appear.
    zero_rows = np.all(x == 0, axis=(2, 3))
    zero_cols = np.all(x == 0, axis=(1, 3))
    depth = max(zero_rows.sum(1).max(), zero_cols.sum(1).max())
    assert 0 < depth <= 16


def test_imagenet_training_crops_and_resizes_varying_sizes():
    def gen():
        rng = np.random.default_rng(0)
        for h, w in [(40, 60), (50, 30), (64, 64), (36, 90)]:
            yield rng.uniform(0, 255, (h, w, 3)).astype("float32"), np.int32(1)

    dataset = tf.data.Dataset.from_generator(
        gen,
        output_signature=(
            tf.TensorSpec((None, None, 3), tf.float32),
            tf.TensorSpec((), tf.int32),
        ),
    )
    for training in (True, False):
        pipeline = build_pipeline(
            dataset, 4, training, image_size=(24, 24), augmentation="imagenet"
        )
        x, y = next(iter(pipeline))
        assert x.shape == (4, 24, 24, 3) and y.shape == (4,)
        assert float(tf.reduce_min(x)) >= 0.0 and float(tf.reduce_max(x)) <= 255.0


def test_imagenet_eval_resizes_shorter_side_then_centre_crops():
    """A horizontal ramp 3 * x of 40x80: shorter side 40 -> round(32 * 256 /
    224) = 37 (scale 0.925, width 74), central 32 columns from column 21;
    output column j samples x = (j + 21 + 0.5) / 0.925 - 0.5."""
    ramp = np.tile(3.0 * np.arange(80, dtype="float32"), (40, 1))
    image = np.repeat(ramp[..., None], 3, axis=-1)
    dataset = tf.data.Dataset.from_tensors((image, np.int32(0)))
    x, _ = next(iter(build_pipeline(dataset, 1, False, (32, 32), "imagenet")))
    expected = 3.0 * ((np.arange(32) + 21 + 0.5) / 0.925 - 0.5)
    # The antialiased (sampled triangle) kernel is within 0.25 of exact on a
    # ramp, and the uint8 storage rounds by up to 0.5. A crop off by one
    # column would be off by 3.2.
    np.testing.assert_allclose(x.numpy()[0, 16, :, 0], expected, atol=0.75)


def test_resizes_to_image_size_without_augmentation():
    _, _, dataset = _dataset(40, 40)
    for training in (True, False):
        x, _ = next(iter(build_pipeline(dataset, 4, training, image_size=(20, 24))))
        assert x.shape == (4, 20, 24, 3)


def test_augmentation_changes_images_only_in_training():
    images, _, dataset = _dataset(num=8)
    train = build_pipeline(dataset, 8, True, randaugment=True, seed=3)
    x, _ = _collect(train)
    changed = [not any(np.array_equal(out, image) for image in images) for out in x]
    assert np.mean(changed) > 0.5
    assert x.min() >= 0.0 and x.max() <= 255.0


def _class_images(num=24, num_classes=3, size=16):
    # Each image is constant: 50 * (label + 1) everywhere.
    labels = (np.arange(num) % num_classes).astype("int32")
    images = (
        np.ones((num, size, size, 3), "float32")
        * (50.0 * (labels + 1))[:, None, None, None]
    )
    return labels, tf.data.Dataset.from_tensor_slices((images, labels))


def test_one_hot_labels_without_mixing():
    labels, dataset = _class_images()
    x, y = _collect(build_pipeline(dataset, 8, False, num_classes=3, one_hot=True))
    assert y.dtype == np.float32 and y.shape == (24, 3)
    np.testing.assert_array_equal(y.argmax(1), labels)
    np.testing.assert_array_equal(y.sum(1), 1.0)


@pytest.mark.parametrize("mixup, cutmix", [(0.4, 0.0), (0.0, 1.0), (0.4, 1.0)])
def test_mixup_cutmix_labels_sum_to_one_and_match_images(mixup, cutmix):
    # CutMix's pairing also draws on the global seed state, which earlier
    # tests in the same worker leave behind: mixed rows ranged 0.29-0.67.
    keras.utils.set_random_seed(0)
    _, dataset = _class_images(size=32)
    pipeline = build_pipeline(
        dataset, 8, True, mixup=mixup, cutmix=cutmix, num_classes=3, seed=5
    )
    x, y = _collect(pipeline)
    assert y.dtype == np.float32 and y.shape == (24, 3)
    np.testing.assert_allclose(y.sum(1), 1.0, atol=1e-5)
    assert y.min() >= 0.0 and y.max() <= 1.0
    assert np.mean(y.max(1) < 0.999) > 0.3  # most rows are mixed
    # The label weights are the shares of each class in the image: the mean
    # pixel value equals sum_c y_c * 50 (c + 1), exactly for MixUp. Keras'
    # CutMix weighs labels by the real-valued box area but pastes whole
    # pixels: each side is off by less than 1 pixel, so the pasted share is
    # off by less than (32 + 32 + 1) / 32**2 of the largest difference, 100.
    expected = y @ (50.0 * np.arange(1, 4))
    tolerance = 1e-3 if not cutmix else 100 * 65 / 32**2
    np.testing.assert_allclose(x.mean(axis=(1, 2, 3)), expected, atol=tolerance)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"batch_size": 0},
            ValueError,
            r"`batch_size` must be at least 1. Received: batch_size=0",
        ),
        ({"batch_size": "8"}, TypeError, r"`batch_size` must be an int"),
        ({"training": "yes"}, TypeError, r"`training` must be a bool"),
        ({"augmentation": "autoaugment"}, ValueError, r"`augmentation` must be one of"),
        ({"mixup": 0.2}, ValueError, r"`num_classes` is needed for one-hot labels"),
        ({"cutmix": 1.0}, ValueError, r"Pass num_classes=bundle.num_classes"),
        ({"one_hot": True}, ValueError, r"`num_classes` is needed"),
        ({"mixup": -0.1, "num_classes": 3}, ValueError, r"`mixup` must be >= 0"),
        ({"cutmix": "1", "num_classes": 3}, TypeError, r"`cutmix` must be a float"),
        ({"cutmix": 2.0, "num_classes": 3}, ValueError, r"`cutmix` must be <= 1"),
        (
            {"training": False, "mixup": 0.2, "num_classes": 3},
            ValueError,
            r"training pipelines only.*one_hot=True",
        ),
        (
            {"training": False, "randaugment": True},
            ValueError,
            r"training pipelines only",
        ),
        (
            {"num_classes": 1, "one_hot": True},
            ValueError,
            r"`num_classes` must be at least 2",
        ),
        (
            {"image_size": (32,)},
            TypeError,
            r"`image_size` must be None, an int or a \(height, width\) pair",
        ),
        ({"image_size": (0, 32)}, ValueError, r"`image_size` must be at least 8x8"),
        ({"shuffle_buffer": 0}, ValueError, r"`shuffle_buffer` must be at least 1"),
        ({"cache": 1}, TypeError, r"`cache` must be a bool or a file path"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    _, _, dataset = _dataset(num=4)
    arguments = {"dataset": dataset, "batch_size": 2, "training": True}
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        build_pipeline(**arguments)


def test_bad_datasets():
    images, labels, dataset = _dataset(num=4)
    with pytest.raises(TypeError, match=r"`dataset` must be a tf.data.Dataset"):
        build_pipeline((images, labels), 2, True)
    with pytest.raises(
        ValueError, match=r"must yield unbatched \(image, label\) pairs"
    ):
        build_pipeline(dataset.batch(2), 2, True)
    varying = tf.data.Dataset.from_generator(
        lambda: iter([]),
        output_signature=(tf.TensorSpec((None, None, 3)), tf.TensorSpec((), tf.int32)),
    )
    with pytest.raises(
        ValueError, match=r"`image_size` is required: the images .* vary in size"
    ):
        build_pipeline(varying, 2, True)


@pytest.mark.parametrize("training, mixup", [(True, 0.0), (False, 0.0), (True, 0.2)])
def test_pipelines_run_without_the_autotuning_thread(training, mixup):
    # With it, deleting each epoch's iterator waits for the thread's next
    # wake-up (seconds); `model.fit` deletes two per epoch.
    images, _, data = _dataset(16, 16, num=8)
    dataset = build_pipeline(
        data,
        batch_size=4,
        training=training,
        num_classes=3,
        one_hot=bool(mixup),
        mixup=mixup,
    )
    assert dataset.options().autotune.enabled is False
    # Parallelism and prefetching still work: every image comes out once.
    out, _ = _collect(dataset)
    assert out.shape == images.shape
