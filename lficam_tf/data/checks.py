"""Argument checks of `load_data` and `build_pipeline`.

The rules live in `lficam_tf.checks` (one owner for the package); here the
data modules' forms of them.
"""

from lficam_tf import checks
from lficam_tf.checks import check_int

__all__ = ["check_image_size", "check_int"]


def check_image_size(image_size):
    """`(height, width)` from None, an int or a pair of ints; None stays None.

    `lficam_tf.checks.check_image_size`: at least `MIN_IMAGE_SIZE` pixels per
    side, the least any model of the package takes.
    """
    return checks.check_image_size(image_size, optional=True)
