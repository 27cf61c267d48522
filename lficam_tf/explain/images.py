"""The images `explain` takes, checked once: `check_images`."""

import keras
import numpy as np

from lficam_tf.api_export import lficam_export


def _dataset_images(dataset):
    """The images of a `tf.data.Dataset` of batches, as one array.

    Its elements are image batches, or tuples / dicts whose first entry
    (dicts: `"images"`) is one, as `model.fit` takes them; labels are
    ignored.
    """
    batches = []
    for element in dataset.as_numpy_iterator():
        if isinstance(element, dict):
            element = element.get("images")
        elif isinstance(element, (tuple, list)):
            element = element[0] if len(element) else None
        element = np.asarray(element) if element is not None else None
        if element is None or element.ndim != 4:
            shape = None if element is None else element.shape
            raise ValueError(
                "`images` as a tf.data.Dataset must yield batches of RGB images "
                "(batch_size, height, width, 3), alone or first in a tuple "
                "(images, labels), or under 'images' in a dict. Received: an "
                f"element of shape {shape}. Batch it (dataset.batch(32)) or "
                "map it to the images."
            )
        batches.append(element)
    if not batches:
        raise ValueError(
            "`images` must hold at least one image. Received: an empty tf.data.Dataset."
        )
    return np.concatenate(batches)


@lficam_export("lficam_tf.explain.check_images")
def check_images(images):
    """`images` as a numpy array of RGB images, or a clear error.

    The one check of the images that `explain`, `explain_with` and
    `lficam_tf.evaluation.evaluate` take, each once per call: an array,
    a tensor, a list of images or a `tf.data.Dataset` of batches (read
    whole), numeric, `(batch_size, height, width, 3)`, at least one image,
    every pixel finite. Values scaled to 0..1 pass (they are numbers);
    `lficam_tf.checks.warn_if_scaled` says so, once per call of the public
    functions.

    Args:
        images: the images, as above.

    Returns:
        A numpy array `(batch_size, height, width, 3)`, of the dtype given
        (uint8, int or float).

    Raises:
        TypeError: not an array-like of numbers.
        ValueError: another shape, no image, NaN or inf pixels.

    >>> import numpy as np
    >>> check_images(np.zeros((2, 8, 8, 3), "uint8")).shape
    (2, 8, 8, 3)
    >>> check_images(np.zeros((8, 8, 3)))
    Traceback (most recent call last):
    ...
    ValueError: `images` must be a batch of RGB images in 0..255, shape (batch_size, height, width, 3). Received: images.shape=(8, 8, 3). For one image, add a batch axis: images[None].
    """
    if hasattr(images, "element_spec") and hasattr(images, "as_numpy_iterator"):
        images = _dataset_images(images)  # A tf.data.Dataset of batches.
    if isinstance(images, (list, tuple)):
        images = np.stack(images)
    try:
        images = keras.ops.convert_to_numpy(images)
    except Exception as error:
        raise TypeError(
            "`images` must be an array or tensor of RGB images (batch_size, "
            f"height, width, 3). Received: images={type(images).__name__}"
        ) from error
    if images.ndim != 4 or images.shape[-1] != 3:
        fix = (
            " For one image, add a batch axis: images[None]."
            if images.ndim == 3
            else ""
        )
        raise ValueError(
            "`images` must be a batch of RGB images in 0..255, shape "
            f"(batch_size, height, width, 3). Received: images.shape={images.shape}.{fix}"
        )
    if not len(images):
        raise ValueError("`images` must hold at least one image. Received: 0 images.")
    if images.dtype.kind not in "uif":
        raise TypeError(
            "`images` must be numeric RGB in 0..255 (uint8 or float). "
            f"Received: images.dtype={images.dtype}"
        )
    if images.dtype.kind == "f" and images.size:
        # NaN or inf pixels would give NaN logits and NaN maps, silently.
        finite = np.isfinite(images).reshape(len(images), -1).all(axis=-1)
        if not finite.all():
            bad = np.flatnonzero(~finite).tolist()
            shown = f"{bad[:10]}".rstrip("]") + (", ...]" if len(bad) > 10 else "]")
            raise ValueError(
                "`images` must be finite RGB values in 0..255. Received: NaN "
                f"or inf pixels in images[i] for i in {shown} ({len(bad)} of "
                f"{len(images)} images). Drop or repair those images."
            )
    return images
