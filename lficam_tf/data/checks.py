"""Argument checks shared by `load_data` and `build_pipeline`."""

import numbers


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name, value, minimum, optional=False):
    """`int(value)`, or a TypeError / ValueError worded for `name`."""
    if optional and value is None:
        return None
    if not _is_int(value):
        kind = "an int or None" if optional else "an int"
        raise TypeError(f"`{name}` must be {kind}. Received: {name}={value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value!r}")
    return int(value)


def check_image_size(image_size):
    """`(height, width)` from None, an int or a pair of positive ints."""
    if image_size is None:
        return None
    if _is_int(image_size):
        image_size = (image_size, image_size)
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(_is_int(s) for s in image_size)
    ):
        raise TypeError(
            "`image_size` must be None, an int or a (height, width) pair of "
            f"ints. Received: image_size={image_size!r}"
        )
    if min(image_size) < 1:
        raise ValueError(f"`image_size` must be positive. Received: image_size={image_size!r}")
    return int(image_size[0]), int(image_size[1])
