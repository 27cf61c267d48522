"""Argument checks of `load_data` and `build_pipeline`.

The integer rule lives in `lficam_tf.checks` (one owner for the package).
"""

from lficam_tf.checks import check_int, is_int

__all__ = ["check_image_size", "check_int"]


def check_image_size(image_size):
    """`(height, width)` from None, an int or a pair of positive ints."""
    if image_size is None:
        return None
    if is_int(image_size):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(is_int(s) for s in image_size)
    ):
        raise TypeError(
            "`image_size` must be None, an int or a (height, width) pair of "
            f"ints. Received: image_size={image_size!r}"
        )
    if min(image_size) < 1:
        raise ValueError(f"`image_size` must be positive. Received: image_size={image_size!r}")
    return int(image_size[0]), int(image_size[1])
