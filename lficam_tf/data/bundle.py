"""`DataBundle`: what `load_data` returns, whatever the source."""

import dataclasses

import numpy as np
import tensorflow as tf

from lficam_tf.api_export import lficam_export


@lficam_export("lficam_tf.data.DataBundle")
@dataclasses.dataclass(frozen=True)
class DataBundle:
    """A dataset's train and test splits with what a trainer needs to know.

    Both splits are unbatched, unshuffled `tf.data.Dataset`s of
    `(image, label)` pairs: `image` float32 of shape `(height, width, 3)` with
    values in 0..255 (RGB), `label` an int32 scalar in `[0, num_classes)`.
    Feed them to `lficam_tf.data.build_pipeline` for batching, augmentation
    and prefetching.

    Attributes:
        name: str. The source's name: `"shapes"`, the TFDS name, or the image
            folder's path.
        train: `tf.data.Dataset`. The training split.
        test: `tf.data.Dataset`. The test split (a TFDS "test" split, else
            "validation", else a held-out slice of "train"; see `load_data`).
        num_classes: int. The number of classes.
        class_names: tuple of str. Class names in label order.
        image_shape: `(height, width, 3)` when every image has that shape, or
            `None` when sizes vary (`build_pipeline` then resizes).
        train_size: int. Number of training examples.
        test_size: int. Number of test examples.
        test_masks: bool array of shape `(test_size, height, width)`, the
            object masks aligned with the order of `test`, or `None` when the
            source has no masks (every source but `"shapes"`).
    """

    name: str
    train: tf.data.Dataset
    test: tf.data.Dataset
    num_classes: int
    class_names: tuple
    image_shape: tuple | None
    train_size: int
    test_size: int
    test_masks: np.ndarray | None = None

    def __repr__(self):
        masks = None if self.test_masks is None else self.test_masks.shape
        return (
            f"DataBundle(name={self.name!r}, num_classes={self.num_classes}, "
            f"image_shape={self.image_shape}, train_size={self.train_size}, "
            f"test_size={self.test_size}, test_masks={masks})"
        )
