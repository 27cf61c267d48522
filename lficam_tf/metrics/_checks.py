"""Argument checks and batched prediction shared by the metric modules.

Every check raises a `TypeError` for a wrong type and a `ValueError` for a
wrong value, worded "`arg` must be ... Received: arg=...".
"""

import numpy as np

from lficam_tf.checks import (  # noqa: F401 (re-exported)
    check_class_index,
    check_int,
    check_number,
)

#: How far outside [0, 1] a map may stray by float round-off (then clipped).
UNIT_SLACK = 1e-6


def _numeric_array(value, name):
    try:
        array = np.asarray(value)
    except Exception as error:  # e.g. ragged nested lists
        raise TypeError(
            f"`{name}` must be a numeric array. Received: {name}={value!r}"
        ) from error
    if array.dtype == bool:
        return array
    if not np.issubdtype(array.dtype, np.number):
        raise TypeError(
            f"`{name}` must be a numeric array. Received: {name} with dtype "
            f"{array.dtype}"
        )
    return array


def check_maps(maps, name="maps", nonnegative=False, unit_interval=False):
    """`maps` as a float64 array of shape (batch_size, height, width).

    Args:
        nonnegative: also require every value >= 0.
        unit_interval: also require every value in [0, 1] (up to
            `UNIT_SLACK` of round-off, then clipped).
    """
    array = _numeric_array(maps, name)
    if array.ndim != 3:
        hint = ""
        if array.ndim == 4 and array.shape[-1] == 1:
            hint = f" Drop the channel axis: `{name}[..., 0]`."
        elif array.ndim == 2:
            hint = f" Add a batch axis: `{name}[None]`."
        raise ValueError(
            f"`{name}` must have shape (batch_size, height, width). "
            f"Received: {name} with shape {array.shape}.{hint}"
        )
    if array.shape[0] < 1 or array.shape[1] < 1 or array.shape[2] < 1:
        raise ValueError(
            f"`{name}` must not be empty. Received: {name} with shape {array.shape}"
        )
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"`{name}` must contain only finite values. Received: {name} with "
            f"{int(np.sum(~np.isfinite(array)))} NaN or infinite values"
        )
    if unit_interval and (array.min() < -UNIT_SLACK or array.max() > 1 + UNIT_SLACK):
        raise ValueError(
            f"`{name}` must have values in [0, 1] (what `lficam_tf.explain` "
            f"returns). Received: {name} with values in "
            f"[{array.min():g}, {array.max():g}]"
        )
    if unit_interval:
        # Float32 round-off of an up-sampled [0, 1] map is accepted and clipped.
        array = np.clip(array, 0.0, 1.0)
    if nonnegative and array.min() < 0:
        raise ValueError(
            f"`{name}` must have non-negative values. Received: {name} with "
            f"minimum {array.min():g}"
        )
    return array


def check_images(images, maps_shape, name="images"):
    """`images` as a float32 array (batch_size, height, width, channels)."""
    array = _numeric_array(images, name)
    if array.ndim != 4:
        raise ValueError(
            f"`{name}` must have shape (batch_size, height, width, channels). "
            f"Received: {name} with shape {array.shape}"
        )
    if tuple(array.shape[:3]) != tuple(maps_shape):
        raise ValueError(
            f"`{name}` must have the batch size and spatial size of `maps` "
            f"{tuple(maps_shape)}. Received: {name} with shape {array.shape}. "
            "Up-sample the maps to the image size (`lficam_tf.explain` does)."
        )
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must contain only finite values.")
    return array


def check_masks(masks, maps_shape, name="masks"):
    """`masks` as a bool array of the maps' shape (0/1 numbers are accepted)."""
    array = _numeric_array(masks, name)
    if tuple(array.shape) != tuple(maps_shape):
        raise ValueError(
            f"`{name}` must have the shape of `maps` {tuple(maps_shape)}. "
            f"Received: {name} with shape {array.shape}"
        )
    if array.dtype != bool:
        if not np.all((array == 0) | (array == 1)):
            raise ValueError(
                f"`{name}` must be boolean (or 0/1). Received: {name} with "
                f"values {np.unique(array)[:5]}..."
            )
        array = array.astype(bool)
    return array


def check_boxes(boxes, batch_size=None, name="boxes"):
    """`boxes` as a float64 array (batch_size, 4) [y_min, x_min, y_max, x_max].

    `batch_size=None` accepts any number of boxes.
    """
    array = _numeric_array(boxes, name)
    expected = (array.shape[0] if batch_size is None and array.ndim else batch_size, 4)
    if array.shape != expected:
        size = "" if batch_size is None else f" = ({batch_size}, 4)"
        raise ValueError(
            f"`{name}` must have shape (batch_size, 4){size}, one "
            f"[y_min, x_min, y_max, x_max] box per image. Received: {name} with "
            f"shape {array.shape}"
        )
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"`{name}` must contain only finite values.")
    bad = (array[:, 2] < array[:, 0]) | (array[:, 3] < array[:, 1])
    if np.any(bad):
        index = int(np.argmax(bad))
        raise ValueError(
            f"`{name}` must be [y_min, x_min, y_max, x_max] with y_min <= y_max "
            f"and x_min <= x_max (format 'yxyx'). Received: {name}[{index}]="
            f"{array[index].tolist()}"
        )
    return array


def check_predict_fn(predict_fn):
    if not callable(predict_fn):
        raise TypeError(
            "`predict_fn` must be a callable images -> probabilities "
            f"(batch_size, num_classes). Received: predict_fn={predict_fn!r}"
        )


def predict(predict_fn, images, batch_size):
    """Probabilities of `images` (n, C) by `predict_fn` on chunks of `batch_size`."""
    outputs = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        outputs.append(check_probabilities(predict_fn(chunk), len(chunk)))
    return np.concatenate(outputs, axis=0)


def check_probabilities(probabilities, batch_size):
    """The output of `predict_fn` as a float64 array (batch_size, C)."""
    array = np.asarray(probabilities, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != batch_size:
        raise ValueError(
            "`predict_fn` must return probabilities of shape (batch_size, "
            f"num_classes) = ({batch_size}, num_classes). Received: an output "
            f"of shape {array.shape}. For an lficam_tf model use "
            "`lambda x: keras.ops.softmax(model(x)['logits'])`."
        )
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1 + 1e-6:
        raise ValueError(
            "`predict_fn` must return probabilities in [0, 1] (softmax scores, "
            f"not logits). Received: values in [{np.nanmin(array):g}, "
            f"{np.nanmax(array):g}]. Wrap logits with `keras.ops.softmax`."
        )
    return array


def target_classes(predict_fn, images, class_index, batch_size):
    """(class_index (B,), full-image probabilities of those classes (B,))."""
    probabilities = predict(predict_fn, images, batch_size)
    if class_index is None:
        class_index = np.argmax(probabilities, axis=-1).astype(np.int64)
    else:
        class_index = check_class_index(
            class_index, len(images), probabilities.shape[-1]
        )
    scores = probabilities[np.arange(len(images)), class_index]
    return class_index, scores
