"""Saliency maps to the common output format: input resolution, in [0, 1].

Every method of `lficam_tf.explain` (LFI-CAM's and ABN's own maps, Grad-CAM,
Grad-CAM++, Score-CAM) returns maps through `to_input_resolution`, so that
they can be compared pixel by pixel and with the same metrics.
"""

from keras import ops

from lficam_tf import checks
from lficam_tf.api_export import lficam_export


@lficam_export("lficam_tf.explain.minmax_normalize")
def minmax_normalize(maps):
    """Per-image min-max scaling to [0, 1]; a constant map becomes all zeros.

    Args:
        maps: float tensor of shape `(batch_size, height, width)`.

    Returns:
        A float32 tensor of the same shape, min 0 and max 1 per image unless
        the image's map is constant (then 0: a flat map points nowhere).

    Example:

    >>> import numpy as np
    >>> maps = np.array([[[1.0, 3.0]], [[2.0, 2.0]]], "float32")
    >>> minmax_normalize(maps).numpy().tolist()
    [[[0.0, 1.0]], [[0.0, 0.0]]]
    """
    maps = ops.cast(maps, "float32")
    low = ops.min(maps, axis=(1, 2), keepdims=True)
    high = ops.max(maps, axis=(1, 2), keepdims=True)
    span = high - low
    flat = span <= 0
    return ops.where(flat, 0.0, (maps - low) / ops.where(flat, 1.0, span))


@lficam_export("lficam_tf.explain.to_input_resolution")
def to_input_resolution(maps, size):
    """Bilinear up-sampling to `size`, then per-image min-max to [0, 1].

    Bilinear interpolation with half-pixel centres, without antialiasing
    (`keras.ops.image.resize`), the usual CAM up-sampling.

    Args:
        maps: float tensor `(batch_size, h, w)` or `(batch_size, h, w, 1)`.
        size: `(height, width)` of the input images.

    Returns:
        float32 tensor of shape `(batch_size, height, width)` in [0, 1].

    Example:

    >>> import numpy as np
    >>> maps = np.array([[[0.0, 1.0], [2.0, 3.0]]], "float32")
    >>> tuple(to_input_resolution(maps, (8, 8)).shape)
    (1, 8, 8)
    """
    maps = ops.cast(maps, "float32")
    if len(maps.shape) == 3:
        maps = maps[..., None]
    if tuple(maps.shape[1:3]) != tuple(size):
        maps = ops.image.resize(
            maps, tuple(size), interpolation="bilinear", antialias=False
        )
    return minmax_normalize(maps[..., 0])


def check_class_index(class_index, batch_size, num_classes=None):
    """Per-image targets as int32 `(batch_size,)`, -1 meaning "the prediction".

    `lficam_tf.checks.check_class_index` with None as -1, the form the
    compiled explainers take.
    """
    return checks.check_class_index(
        class_index, batch_size, num_classes, predicted=-1
    ).astype("int32")
