"""What an evaluation reads from files: `.keras` models, a dataset's test images.

`load_models` loads `.keras` files and names each model by its file;
`load_test_images` takes the first images of a dataset's test split (what
`lficam_tf.data.load_data` reads), resized to the models' input size, with
their labels, object masks and class names. `lficam-eval` runs these, then
`evaluate` and `write_report`.
"""

import pathlib

from lficam_tf.api_export import lficam_export


@lficam_export("lficam_tf.evaluation.load_models")
def load_models(paths):
    """The `.keras` models at `paths`, named by their file names.

    Args:
        paths: list of str or paths, `.keras` files.

    Returns:
        `(models, names)`: the loaded models, and their file names without
        the suffix (`model`, `model-2`, ... where two files share a name).

    Raises:
        ValueError: a path is not a `.keras` file (a SavedModel keeps no
            gradients or inner layers), or the file is damaged.
    """
    import lficam_tf.models  # noqa: F401  Registers the package's classes.
    from lficam_tf.models.serialization import load_keras_file

    models, names = [], []
    for path in paths:
        path = pathlib.Path(path)
        if not (path.is_file() and path.suffix == ".keras"):
            raise ValueError(
                "`MODEL` must be a .keras file (the report needs gradients and "
                f"inner layers, which a SavedModel does not keep). Received: MODEL={str(path)!r}"
            )
        models.append(load_keras_file(path, "MODEL"))  # Names a damaged file.
        name, count = path.stem, 2
        while name in names:
            name, count = f"{path.stem}-{count}", count + 1
        names.append(name)
    return models, names


@lficam_export("lficam_tf.evaluation.load_test_images")
def load_test_images(source, size, num_images, data_dir=None, seed=0):
    """The first `num_images` images of `source`'s test split.

    Args:
        source: what `lficam_tf.data.load_data` takes: `"shapes"` (built in,
            with object masks), a TFDS name, or an image folder with
            `train/` and `test/`.
        size: `(height, width)` the images are resized to.
        num_images: int. How many test images.
        data_dir: str or None. The TFDS data folder. Defaults to `None`.
        seed: int. Seed of the "shapes" images and of an image folder's
            file order. Defaults to `0`.

    Returns:
        `(images, labels, masks, class_names, bundle)`: float32 RGB
        `(n, height, width, 3)`, int32 `(n,)`, bool `(n, height, width)`
        or None, a list of str, and the `load_data` bundle.
    """
    import numpy as np

    from lficam_tf.data import load_data

    bundle = load_data(
        source,
        data_dir=data_dir,
        image_size=tuple(size),
        seed=seed,
        num_train=1,
        num_test=num_images,
    )
    pairs = list(bundle.test.take(num_images).as_numpy_iterator())
    if not pairs:
        raise ValueError(
            f"`--data` must have test images. Received: --data {source!r} with none."
        )
    images = np.stack([image for image, _ in pairs]).astype("float32")
    labels = np.array([label for _, label in pairs], "int32")
    masks = (
        None
        if bundle.test_masks is None
        else np.asarray(bundle.test_masks[: len(images)], bool)
    )
    return images, labels, masks, list(bundle.class_names), bundle
