"""Data for training and evaluating LFI-CAM models.

- `load_data(source, ...)` -> `DataBundle`: the built-in "shapes" dataset
  (generated in code, with object masks), any TFDS image classification
  dataset by name, or an image folder (`train/<class>/*`, `test/<class>/*`).
- `build_pipeline(dataset, batch_size, training, ...)`: batching,
  augmentation (the CIFAR and ImageNet recipes, RandAugment, MixUp, CutMix)
  and prefetching with `tf.data`.
- `generate_shapes(num_images, ...)`: the "shapes" images, labels and masks
  as numpy arrays.
"""

from lficam_tf.data.bundle import DataBundle
from lficam_tf.data.loader import BUILTIN_DATASETS, load_data
from lficam_tf.data.pipeline import AUGMENTATIONS, build_pipeline
from lficam_tf.data.shapes import SHAPES_CLASS_NAMES, SHAPES_IMAGE_SIZE, generate_shapes

__all__ = [
    "AUGMENTATIONS",
    "BUILTIN_DATASETS",
    "DataBundle",
    "SHAPES_CLASS_NAMES",
    "SHAPES_IMAGE_SIZE",
    "build_pipeline",
    "generate_shapes",
    "load_data",
]
