"""The data of a run: the dataset, the input size, the pipelines, the
images the maps are shown on.

- `load`: `lficam_tf.data.load_data` for a `TrainConfig`;
- `image_size`: the model's input size (the config's, else the dataset's);
- `steps_per_epoch`: training batches per epoch (whole batches only with
  several replicas);
- `pipelines`: the training and test `tf.data` pipelines; after a resume the
  training order is drawn from a seed that depends on the epoch;
- `fixed_test_images`, `masks_for`: the test images shown in TensorBoard and
  `attention.png`, and the object masks at the model's input size.
"""

import math

import numpy as np
import tensorflow as tf

from lficam_tf.data import BUILTIN_DATASETS, build_pipeline, load_data
from lficam_tf.training.errors import ConfigError

#: Cache decoded training images in memory below this many bytes.
CACHE_LIMIT_BYTES = 4 * 2**30


def load(config):
    """The `DatasetBundle` of `config` (geometric recipes keep the sizes)."""
    geometric = (
        config.augmentation == "imagenet" and config.dataset not in BUILTIN_DATASETS
    )
    return load_data(
        config.dataset,
        data_dir=config.data_dir,
        image_size=None if geometric else config.image_size,
        seed=config.seed,
        num_train=config.num_train,
        num_test=config.num_test,
    )


def image_size(config, bundle):
    """`(height, width)` of the model's input, or a `ConfigError`."""
    if config.image_size is not None:
        return config.image_size
    if bundle.image_shape is None:
        raise ConfigError(
            f"`image_size` is needed: the images of {bundle.name!r} vary in size. "
            "Received: image_size=None. Pass e.g. --image-size 224."
        )
    return tuple(bundle.image_shape[:2])


def steps_per_epoch(config, bundle, replicas):
    """Training batches per epoch, or a `ConfigError` if there is none.

    With several replicas the last partial batch is dropped (each replica
    gets an equal share of every batch).
    """
    if replicas > 1:
        steps = bundle.train_size // config.batch_size
    else:
        steps = math.ceil(bundle.train_size / config.batch_size)
    if steps < 1:
        raise ConfigError(
            f"`batch_size` must not exceed the {bundle.train_size} training images "
            f"with {replicas} replicas. Received: batch_size={config.batch_size}."
        )
    return steps


def pipelines(config, bundle, size, done, drop_remainder):
    """The training and test pipelines of a run.

    Args:
        config: a `TrainConfig`.
        bundle: the `DatasetBundle`.
        size: `(height, width)` of the model's input.
        done: int. Epochs already done: after a resume the data order is
            drawn from a seed that depends on it, so that the resumed epochs
            do not repeat the first ones.
        drop_remainder: bool. Drop the last partial training batch.

    Returns:
        `(train_data, test_data)`.
    """
    cache = bundle.train_size * size[0] * size[1] * 12 < CACHE_LIMIT_BYTES
    train_data = build_pipeline(
        bundle.train,
        config.batch_size,
        training=True,
        image_size=size,
        augmentation=config.augmentation,
        randaugment=config.randaugment,
        mixup=config.mixup,
        cutmix=config.cutmix,
        num_classes=bundle.num_classes,
        seed=config.seed + 1000 * done,
        cache=cache,
        drop_remainder=drop_remainder,
    )
    test_data = build_pipeline(
        bundle.test,
        config.batch_size,
        training=False,
        image_size=size,
        augmentation=config.augmentation,
        num_classes=bundle.num_classes,
        one_hot=config.uses_soft_labels,
        cache=cache,
    )
    return train_data, test_data


def fixed_test_images(config, bundle, size):
    """The first `config.attention_images` test images (as the model sees
    them), their labels and masks, or None.

    Read through a pipeline of their own (same preprocessing as the test
    pipeline, no cache): stopping early in the cached test pipeline would
    make tf.data discard the partial cache and warn about it.
    """
    count = config.attention_images
    if not count:
        return None
    data = build_pipeline(
        bundle.test.take(count),
        count,
        training=False,
        image_size=size,
        augmentation=config.augmentation,
        cache=False,
    )
    images, labels = (np.concatenate(parts) for parts in zip(*data.as_numpy_iterator()))
    masks = masks_for(bundle, size, count)
    return images, labels, masks


def masks_for(bundle, size, count=None):
    """The test masks at the model's input size, or None."""
    masks = bundle.test_masks
    if masks is None:
        return None
    masks = masks[:count] if count is not None else masks
    if tuple(masks.shape[1:3]) != tuple(size):
        resized = tf.image.resize(
            masks[..., None].astype("float32"), size, method="nearest"
        )
        masks = resized.numpy()[..., 0] > 0.5
    return masks
