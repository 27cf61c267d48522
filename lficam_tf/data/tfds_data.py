"""TensorFlow Datasets (TFDS) image classification datasets by name.

Reading only: nothing is ever downloaded here (no `download=True`), so an
offline machine never hangs; a dataset that is not prepared in `data_dir`
raises an error saying how to prepare it.

Splits: the training split is "train"; the test split is "test", else
"validation" (ImageNet), else, for datasets with "train" only (cats_vs_dogs),
the last 10% of "train" (`train[90%:]`, deterministic: TFDS slices by
example index), training then on `train[:90%]`.
"""

import tensorflow as tf

from lficam_tf.data.bundle import DataBundle
from lficam_tf.data.preprocess import to_model_image

#: Fraction of "train" held out as the test split when a dataset has no
#: "test" and no "validation" split.
HOLDOUT_FRACTION = 0.1


def _tfds():
    import tensorflow_datasets as tfds  # Imported lazily: about 1 s.

    return tfds


def is_tfds_name(name):
    """Whether `name` (e.g. `"cifar10"`, `"imagenette/320px-v2"`,
    `"cifar10:3.0.2"`) names a registered TFDS builder."""
    base = name.split(":")[0].split("/")[0]
    return bool(base) and base in _tfds().list_builders(with_community_datasets=False)


def _splits(info, name):
    splits = set(info.splits.keys())
    if "train" not in splits:
        raise ValueError(
            f"TFDS dataset {name!r} has no 'train' split (its splits: "
            f"{sorted(splits)}). Use a dataset with 'train' and 'test' or "
            "'validation' splits, or an image folder."
        )
    if "test" in splits:
        return "train", "test"
    if "validation" in splits:
        return "train", "validation"
    percent = round(100 * (1 - HOLDOUT_FRACTION))
    return f"train[:{percent}%]", f"train[{percent}%:]"


def _not_prepared_message(name, builder, data_dir):
    where = f"--data_dir={data_dir}" if data_dir else "(default ~/tensorflow_datasets)"
    manual = ""
    if getattr(builder, "MANUAL_DOWNLOAD_INSTRUCTIONS", None):
        manual = (
            " This dataset needs a manual download first: place its files in "
            "<data_dir>/downloads/manual (see `tfds build --help` and the "
            "dataset's page on tensorflow.org/datasets)."
        )
    return (
        f"TFDS dataset {name!r} is not prepared in {builder.data_dir!r}, and "
        "datasets are never downloaded here. Prepare it once on a machine "
        f"with internet access: `tfds build {name} {where}` (or, in Python, "
        f"`tfds.builder({name!r}, data_dir=...).download_and_prepare()`), "
        "then pass that folder as `data_dir` (`--data-dir` on the command "
        f"line).{manual}"
    )


def load_tfds(name, data_dir=None, image_size=None, num_train=None, num_test=None):
    """Load a TFDS image classification dataset as a `DataBundle`.

    See `lficam_tf.data.load_data`, which calls this for a TFDS name.
    """
    tfds = _tfds()
    builder = tfds.builder(name, data_dir=data_dir)
    if not builder.is_prepared():
        raise FileNotFoundError(_not_prepared_message(name, builder, data_dir))
    info = builder.info
    keys = info.supervised_keys
    if not keys or len(keys) != 2:
        raise ValueError(
            f"TFDS dataset {name!r} has no (image, label) supervised keys "
            f"(supervised_keys={keys}), so it is no image classification "
            "dataset this package can read."
        )
    image_key, label_key = keys
    image_feature = info.features[image_key]
    label_feature = info.features[label_key]
    if not isinstance(image_feature, tfds.features.Image) or not isinstance(
        label_feature, tfds.features.ClassLabel
    ):
        raise ValueError(
            f"TFDS dataset {name!r} must have an Image input and a ClassLabel "
            f"target. Received: {type(image_feature).__name__} -> "
            f"{type(label_feature).__name__}."
        )

    train_split, test_split = _splits(info, name)
    sizes = {}
    datasets = {}
    for key, split, limit in (
        ("train", train_split, num_train),
        ("test", test_split, num_test),
    ):
        size = info.splits[split].num_examples
        if limit is not None:
            size = min(size, limit)
            split = f"{split}[:{size}]" if "[" not in split else split
        dataset = builder.as_dataset(
            split=split, as_supervised=True, shuffle_files=False
        )
        if limit is not None:
            dataset = dataset.take(size)
        sizes[key] = size
        datasets[key] = dataset

    height, width = image_feature.shape[:2]
    if image_size is not None:
        image_shape = (image_size[0], image_size[1], 3)
    elif height is not None and width is not None:
        image_shape = (height, width, 3)
    else:
        image_shape = None

    def convert(image, label):
        image = to_model_image(image, image_size)
        if image_shape is not None:
            image = tf.ensure_shape(image, image_shape)
        return image, tf.cast(label, tf.int32)

    for key in datasets:
        datasets[key] = datasets[key].map(
            convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )
    return DataBundle(
        name=name,
        train=datasets["train"],
        test=datasets["test"],
        num_classes=label_feature.num_classes,
        class_names=tuple(label_feature.names),
        image_shape=image_shape,
        train_size=sizes["train"],
        test_size=sizes["test"],
        test_masks=None,
    )
