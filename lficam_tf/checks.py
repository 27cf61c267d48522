"""Argument checks shared by the whole package, importable without TensorFlow.

One owner per rule: the data loaders, the pipeline, the metrics, the model
builder and the training configuration import their integer, class-index and
image-size checks from here, so that a rule changed here changes everywhere.
`train_tf.py --help` imports the training configuration, which imports this
module: it imports neither numpy nor Keras nor TensorFlow.

Every check raises a `TypeError` for a value of the wrong type (a float, a
str or a bool where an int is needed) and a `ValueError` for a value of the
right type that breaks the rule (a negative size), worded "`arg` must be ...
Received: arg=...", as Keras does.

>>> from lficam_tf.checks import check_int
>>> check_int(3, "batch_size", minimum=1)
3
>>> check_int(0, "batch_size", minimum=1)
Traceback (most recent call last):
...
ValueError: `batch_size` must be at least 1. Received: batch_size=0
"""

import math
import numbers

#: LFI-CAM's attention is a weighted sum of the feature maps, up-sampled to
#: the input: a 1x1 feature map gives a constant (empty) explanation, so
#: every model needs feature maps of at least this many cells per side.
MIN_FEATURE_SIZE = 2

#: The smallest stride (input size / feature-map size) of the registered
#: backbones: the CIFAR ResNets, DenseNet and ResNeXt (a test keeps it true).
MIN_BACKBONE_STRIDE = 4

#: The smallest image side any model of the package takes: the feature maps
#: of the finest registered backbone are then `MIN_FEATURE_SIZE` cells wide.
#: Coarser backbones need more (`build_model` checks the actual feature map).
MIN_IMAGE_SIZE = MIN_FEATURE_SIZE * MIN_BACKBONE_STRIDE

_IMAGE_SIZE_REASON = (
    f"the finest backbones (stride {MIN_BACKBONE_STRIDE}) then give "
    f"{MIN_FEATURE_SIZE}x{MIN_FEATURE_SIZE} feature maps, the least LFI-CAM "
    "can explain"
)


def is_int(value):
    """Whether `value` is an integer (Python or numpy), bools excluded."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value):
    """Whether `value` is a real number (Python or numpy), bools excluded."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(value, name, minimum=None, maximum=None, optional=False):
    """`value` as a Python int in [minimum, maximum].

    Args:
        value: the argument to check.
        name: str. The argument's name, for the message.
        minimum: int or None. The smallest value allowed.
        maximum: int or None. The largest value allowed.
        optional: bool. Whether None is allowed (and returned).

    Returns:
        `int(value)`, or None when `optional` and `value` is None.

    Raises:
        TypeError: `value` is not an int (bools and floats are refused).
        ValueError: `value` is out of [minimum, maximum].
    """
    if optional and value is None:
        return None
    if not is_int(value):
        kind = "an int or None" if optional else "an int"
        raise TypeError(f"`{name}` must be {kind}. Received: {name}={value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(
            f"`{name}` must be at least {minimum}. Received: {name}={value}"
        )
    if maximum is not None and value > maximum:
        raise ValueError(
            f"`{name}` must be at most {maximum}. Received: {name}={value}"
        )
    return value


def check_number(value, name):
    """`value` as a finite Python float (bools are refused)."""
    if not is_number(value):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value}")
    return value
