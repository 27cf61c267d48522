"""`load_data`: one entry point for the built-in, TFDS and folder datasets."""

import os
import pathlib

import tensorflow as tf

from lficam_tf.api_export import lficam_export
from lficam_tf.checks import did_you_mean
from lficam_tf.data.bundle import DataBundle
from lficam_tf.data.checks import check_image_size, check_int
from lficam_tf.data.image_folder import load_image_folder
from lficam_tf.data.shapes import SHAPES_CLASS_NAMES, SHAPES_IMAGE_SIZE, generate_shapes
from lficam_tf.data.tfds_data import is_tfds_name, load_tfds

#: The built-in datasets, generated in code.
BUILTIN_DATASETS = ("shapes",)
#: Default sizes of the built-in "shapes" splits.
SHAPES_NUM_TRAIN = 12_000
SHAPES_NUM_TEST = 2_000

_TFDS_EXAMPLES = (
    "cifar10",
    "cifar100",
    "stl10",
    "cats_vs_dogs",
    "imagenette",
    "imagenet2012",
)


def _looks_like_path(source):
    return (
        os.sep in source
        or (os.altsep is not None and os.altsep in source)
        or source.startswith((".", "~"))
    )


def _unknown_source(source):
    from lficam_tf.data.tfds_data import _tfds

    names = list(BUILTIN_DATASETS) + list(
        _tfds().list_builders(with_community_datasets=False)
    )
    hint = did_you_mean(source, names, n=3)
    return ValueError(
        f"Unknown data source {source!r}.{hint} `source` must be one of: the "
        f"built-in dataset {BUILTIN_DATASETS[0]!r}; a TFDS dataset name (e.g. "
        f"{', '.join(_TFDS_EXAMPLES)}; all names: tfds.list_builders()); or "
        "the path of an existing image folder laid out as "
        "<folder>/train/<class>/<image> and <folder>/test/<class>/<image>."
    )


def _load_shapes(image_size, seed, num_train, num_test):
    image_size = image_size or SHAPES_IMAGE_SIZE
    num_train = SHAPES_NUM_TRAIN if num_train is None else num_train
    num_test = SHAPES_NUM_TEST if num_test is None else num_test
    splits = {}
    for split, num in (("train", num_train), ("test", num_test)):
        images, labels, masks = generate_shapes(num, image_size, seed=seed, split=split)
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).map(
            lambda image, label: (tf.cast(image, tf.float32), label),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        splits[split] = (dataset, masks)
    return DataBundle(
        name="shapes",
        train=splits["train"][0],
        test=splits["test"][0],
        num_classes=len(SHAPES_CLASS_NAMES),
        class_names=SHAPES_CLASS_NAMES,
        image_shape=(image_size[0], image_size[1], 3),
        train_size=num_train,
        test_size=num_test,
        test_masks=splits["test"][1],
    )


@lficam_export("lficam_tf.data.load_data")
def load_data(
    source,
    data_dir=None,
    image_size=None,
    seed=0,
    num_train=None,
    num_test=None,
    check_images="decode",
):
    """Load a dataset's train and test splits as a `DataBundle`.

    Three kinds of `source`:

    - `"shapes"`: the built-in dataset, generated in code
      (`lficam_tf.data.generate_shapes`): 6 classes, 64x64 images by
      default, 12,000 train and 2,000 test images by default, with the
      objects' masks in `bundle.test_masks`.
    - a TFDS name (`"cifar10"`, `"cifar100"`, `"stl10"`, `"cats_vs_dogs"`,
      `"imagenette"`, `"imagenet2012"` or any other image classification
      dataset, optionally with config and version, `"imagenette/320px-v2"`),
      read from `data_dir` and never downloaded. Training split "train"; test
      split "test", else "validation", else the last 10% of "train" (training
      then uses the first 90%). Class count and names come from the
      dataset's info.
    - the path of an image folder laid out as `<folder>/train/<class>/<image>`
      and `<folder>/test/<class>/<image>` (JPEG, PNG, BMP, GIF or WebP; other
      files are ignored). Class names are the sorted folder names. Each
      split's files are put in one random order drawn from `seed`. Every
      file is checked when loading (see `check_images`).

    A `source` that is an existing folder is read as an image folder; else a
    registered TFDS name is read from TFDS.

    Args:
        source: str or `pathlib.Path`. See above.
        data_dir: str or None. The TFDS data folder (TFDS sources only; TFDS's
            default `~/tensorflow_datasets` when None). Defaults to `None`.
        image_size: int, `(height, width)` or None. "shapes": the generated
            size (64x64 when None). TFDS and folders: resize every image to
            this size when loading (bilinear, aspect ratio not kept); None
            keeps the stored sizes (leave it None for ImageNet-style
            recipes: `build_pipeline` crops and resizes). Defaults to `None`.
        seed: int. "shapes": the generation seed; folders: the seed of the
            file order. Defaults to `0`.
        num_train: int or None. Use at most this many training images (the
            first ones; "shapes": generate this many). Defaults to `None`
            (all; 12,000 for "shapes").
        num_test: int or None. The same for the test split. Defaults to
            `None` (all; 2,000 for "shapes").
        check_images: `"decode"`, `"header"` or `"none"`. Image folders
            only: decode every file once when loading, with the pipeline's
            own decoder in parallel (finds every file training would fail
            on: empty, no image, damaged after the header; about 0.2 s per
            1,000 CIFAR-10 JPEGs on 2 cores), read only the headers with
            Pillow (misses damage past the header), or check nothing
            (`image_shape` is then `None` unless `image_size` is given).
            Defaults to `"decode"`.

    Returns:
        A `lficam_tf.data.DataBundle`: `train` and `test` unbatched,
        unshuffled `tf.data.Dataset`s of `(image, label)` with image float32
        `(height, width, 3)` in 0..255 and label an int32 scalar, and
        `num_classes`, `class_names`, `image_shape`, `train_size`,
        `test_size`, `test_masks`, `name`.

    Raises:
        FileNotFoundError: an image folder that does not exist, or a TFDS
            dataset that is not prepared in `data_dir`.
        ValueError: an unknown source name, an image folder without
            `train` / `test` subfolders, images, or at least 2 classes, or
            with files that are no readable images (each named).

    Example:

    >>> bundle = load_data("shapes", num_train=12, num_test=6, image_size=32)
    >>> bundle.num_classes, bundle.image_shape, bundle.test_masks.shape
    (6, (32, 32, 3), (6, 32, 32))
    >>> image, label = next(iter(bundle.train))
    >>> image.shape, image.dtype, label.dtype
    (TensorShape([32, 32, 3]), tf.float32, tf.int32)
    """
    if isinstance(source, pathlib.PurePath):
        source = str(source)
    if not isinstance(source, str):
        raise TypeError(
            "`source` must be a str (a dataset name or a folder path). "
            f"Received: source={source!r}"
        )
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(
            f"`data_dir` must be a str or None. Received: data_dir={data_dir!r}"
        )
    image_size = check_image_size(image_size)
    num_train = check_int(num_train, "num_train", minimum=1, optional=True)
    num_test = check_int(num_test, "num_test", minimum=1, optional=True)
    seed = check_int(seed, "seed", minimum=0)

    if source in BUILTIN_DATASETS:
        if data_dir is not None:
            raise ValueError(
                f"`data_dir` applies to TFDS datasets only; {source!r} is "
                f"generated in code. Received: data_dir={data_dir!r}. Drop "
                "`data_dir` (`--data-dir`)."
            )
        return _load_shapes(image_size, seed, num_train, num_test)
    if source and pathlib.Path(source).expanduser().is_dir():
        if data_dir is not None:
            raise ValueError(
                "`data_dir` applies to TFDS datasets only; for an image folder "
                f"pass its path as `source`. Received: source={source!r}, "
                f"data_dir={data_dir!r}"
            )
        return load_image_folder(
            source, image_size, seed, num_train, num_test, check_images=check_images
        )
    if source and is_tfds_name(source):
        return load_tfds(
            source, str(data_dir) if data_dir else None, image_size, num_train, num_test
        )
    if source and (_looks_like_path(source) or pathlib.Path(source).exists()):
        # Raises the missing-folder error with the expected layout.
        return load_image_folder(
            source, image_size, seed, num_train, num_test, check_images
        )
    raise _unknown_source(source)
