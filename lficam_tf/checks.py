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
import warnings

from lficam_tf.choices import RELU_PLACEMENTS

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


def check_int(value, name, minimum=None, maximum=None, optional=False, fix=""):
    """`value` as a Python int in [minimum, maximum].

    Args:
        value: the argument to check.
        name: str. The argument's name, for the message.
        minimum: int or None. The smallest value allowed.
        maximum: int or None. The largest value allowed.
        optional: bool. Whether None is allowed (and returned).
        fix: str. A sentence that says what to pass instead, added to
            every message. Defaults to `""`.

    Returns:
        `int(value)`, or None when `optional` and `value` is None.

    Raises:
        TypeError: `value` is not an int (bools and floats are refused).
        ValueError: `value` is out of [minimum, maximum].
    """
    if optional and value is None:
        return None
    fix = f". {fix}" if fix else ""
    if not is_int(value):
        kind = "an int or None" if optional else "an int"
        raise TypeError(f"`{name}` must be {kind}. Received: {name}={value!r}{fix}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(
            f"`{name}` must be at least {minimum}. Received: {name}={value}{fix}"
        )
    if maximum is not None and value > maximum:
        raise ValueError(
            f"`{name}` must be at most {maximum}. Received: {name}={value}{fix}"
        )
    return value


def check_image_size(
    image_size,
    name="image_size",
    minimum=MIN_IMAGE_SIZE,
    reason=_IMAGE_SIZE_REASON,
    optional=False,
):
    """`(height, width)` from an int or a pair of ints, each >= `minimum`.

    The one rule for image sizes: at least `MIN_IMAGE_SIZE` pixels per side,
    the least any model of the package explains. A stricter bound (the
    generated "shapes" need room for their objects) passes its own named
    `minimum` and the `reason` the message gives.

    Args:
        image_size: int (a square) or `(height, width)`, or None where
            `optional`.
        name: str. The argument's name, for the message.
        minimum: int. The smallest side allowed. Defaults to
            `MIN_IMAGE_SIZE`.
        reason: str. Why, for the message.
        optional: bool. Whether None is allowed (and returned).

    Returns:
        `(height, width)` as Python ints, or None.

    Raises:
        TypeError: not an int or a pair of ints.
        ValueError: a side below `minimum`.
    """
    if optional and image_size is None:
        return None
    size = (image_size, image_size) if is_int(image_size) else image_size
    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(is_int(s) for s in size)
    ):
        kind = "None, an int" if optional else "an int"
        raise TypeError(
            f"`{name}` must be {kind} or a (height, width) pair of ints. "
            f"Received: {name}={image_size!r}"
        )
    if min(size) < minimum:
        raise ValueError(
            f"`{name}` must be at least {minimum}x{minimum}: {reason}. "
            f"Received: {name}={image_size!r}"
        )
    return int(size[0]), int(size[1])


#: CutMix's largest strength: `cutmix` is Keras CutMix's `factor`, the
#: upper end of the range (0, factor) its Beta parameter is drawn from per
#: batch, which Keras takes in [0, 1].
MAX_CUTMIX = 1.0


def check_mixing(value, name):
    """A MixUp (`"mixup"`) or CutMix (`"cutmix"`) strength as a float.

    Both are >= 0, 0 turning them off; CutMix's is at most `MAX_CUTMIX`.
    `build_pipeline` and `TrainConfig` check theirs here, so a training run
    refuses a bad value before it starts.

    Raises:
        TypeError: `value` is not a number.
        ValueError: `value` is inf or NaN, `value` < 0, or a CutMix strength above `MAX_CUTMIX`.
    """
    if not is_number(value):
        raise TypeError(f"`{name}` must be a float. Received: {name}={value!r}")
    if not math.isfinite(value):
        raise ValueError(
            f"`{name}` must be a finite number >= 0 (0 turns it off). "
            f"Received: {name}={value!r}"
        )
    if value < 0:
        raise ValueError(
            f"`{name}` must be >= 0 (0 turns it off). Received: {name}={value!r}"
        )
    if name == "cutmix" and value > MAX_CUTMIX:
        raise ValueError(
            f"`cutmix` must be <= {MAX_CUTMIX:g} (it is Keras CutMix's `factor`: the "
            "Beta parameter is drawn from (0, cutmix) per batch). Received: "
            f"cutmix={value!r}"
        )
    return float(value)


#: The Feature Importance Network's options in `build_model` and
#: `TrainConfig`, with their defaults: the one place they are written.
#: `build_model`, `LFICAMClassifier`, `FeatureImportanceNetwork` (`depth`,
#: `relu`) and the `TrainConfig` fields (hence `train_tf.py --help`) take
#: their defaults from here, and the presets (`lficam_tf.presets`) are
#: models built with them; `tests/test_fin_defaults.py` checks each place.
#: `fin_width="auto"` is the backbone's own default width: the paper's
#: K -> K on the CIFAR backbones, the bottleneck of
#: `lficam_tf.layers.scaled_fin_width` on wide ones (`BackboneSpec.fin_width`).
FIN_DEFAULTS = {"fin_depth": 4, "fin_relu": "paired", "fin_width": "auto"}


def check_choice(value, name, choices):
    """`value` if it is one of `choices`, else a ValueError listing them."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {tuple(choices)}. Received: {name}={value!r}"
        )
    return value


def check_fin(depth, relu, width, prefix="", bottleneck=True, auto=False):
    """The Feature Importance Network's `depth`, `relu` and `width`.

    `FeatureImportanceNetwork` checks its arguments here, `build_model` and
    `TrainConfig` theirs (named `fin_depth`, ...: `prefix="fin_"`) through
    `check_fin_options`.

    Args:
        depth: int >= 1. Conv-BN units.
        relu: one of `lficam_tf.choices.RELU_PLACEMENTS`.
        width: int >= 1, or None (the paper's K -> K width); `"auto"` too
            where `auto` is true.
        prefix: str. Prepended to the names in the messages.
        bottleneck: bool. Whether an int `width` makes a bottleneck FIN,
            whose 1x1 convolutions in and out need `depth >= 2`.
        auto: bool. Whether `width="auto"` (the backbone's default) is
            accepted.
    """
    check_int(depth, f"{prefix}depth", minimum=1)
    check_choice(relu, f"{prefix}relu", RELU_PLACEMENTS)
    if auto and width == "auto":
        return
    if isinstance(width, str):
        allowed = " or 'auto' (the backbone's default)" if auto else ""
        raise ValueError(
            f"`{prefix}width` must be an int >= 1 or None (the paper's K -> K "
            f"FIN){allowed}. Received: {prefix}width={width!r}"
        )
    check_int(width, f"{prefix}width", minimum=1, optional=True)
    if width is not None and bottleneck and depth < 2:
        raise ValueError(
            f"A narrow FIN (`{prefix}width`={width}) is a 1x1 convolution in and "
            f"one out, so it needs `{prefix}depth` >= 2. Received: "
            f"{prefix}depth={depth}. Raise {prefix}depth, or pass "
            f"{prefix}width=None for the paper's K -> K FIN."
        )


def check_fin_options(head, fin_depth, fin_relu, fin_width, fix="pass head='lficam'"):
    """`build_model`'s and `TrainConfig`'s FIN options, for the `head` used.

    Only the LFI-CAM head has a Feature Importance Network: with another
    head, an option other than its default (`FIN_DEFAULTS`) would be
    silently ignored, so it is refused.

    Args:
        head: one of `lficam_tf.choices.HEADS`.
        fin_depth, fin_relu, fin_width: the options (see `check_fin`;
            `fin_width` may be `"auto"`).
        fix: str. How the caller's user selects the LFI-CAM head, for the
            message (`TrainConfig`: "use --head lficam").

    Raises:
        TypeError, ValueError: as `check_fin`; a ValueError for a
            non-default option with `head != "lficam"`.
    """
    check_fin(fin_depth, fin_relu, fin_width, prefix="fin_", auto=True)
    given = {"fin_depth": fin_depth, "fin_relu": fin_relu, "fin_width": fin_width}
    if head != "lficam" and given != FIN_DEFAULTS:
        raise ValueError(
            "`fin_width`, `fin_depth` and `fin_relu` apply to head='lficam' "
            f"only: the {head!r} head has no Feature Importance Network, so "
            f"they would be ignored. Received: head={head!r}, "
            f"fin_width={fin_width!r}, fin_depth={fin_depth!r}, "
            f"fin_relu={fin_relu!r}. Drop them, or {fix}."
        )


def did_you_mean(value, choices, n=1):
    """`" Did you mean 'x'?"` for the closest of `choices` to `value`, or "".

    The one "did you mean" of the package's errors (unknown options, choices,
    presets, data sources, weights). Case is ignored, so "CIFAR10" finds
    "cifar10"; the hint starts with a space, to follow a sentence.

    Args:
        value: what the user gave (any value; compared as str).
        choices: the valid values.
        n: int. How many close matches to name at most. Defaults to `1`.

    >>> did_you_mean("epoch", ["epochs", "seed"])
    " Did you mean 'epochs'?"
    >>> did_you_mean("CIFAR100", ["cifar10"])
    " Did you mean 'cifar10'?"
    >>> did_you_mean("zzz", ["cifar10"])
    ''
    """
    import difflib

    by_lower = {}
    for choice in choices:
        by_lower.setdefault(str(choice).lower(), str(choice))
    close = difflib.get_close_matches(str(value).lower(), list(by_lower), n=n)
    if not close:
        return ""
    return f" Did you mean {' or '.join(repr(by_lower[c]) for c in close)}?"


def weights_mismatch_error(weights, model_name, error):
    """The `ValueError` for a weights file that does not fit its model.

    The one message of the backbone loaders (`lficam_tf.backbones`) and of
    the shipped classifiers (`lficam_tf.presets`): Keras' reason, of which
    only the first line (its message goes on to print whole variables), and
    the fix.

    Args:
        weights: str. The file.
        model_name: str. The backbone or model the file was loaded into.
        error: the exception Keras raised.
    """
    reason = str(error).strip().split("\n")[0][:300]
    return ValueError(
        f"The weights file {weights!r} does not match backbone "
        f"{model_name!r} ({reason}). Load a file saved from the same "
        "architecture (same backbone, depth and options such as stem_stride)."
    )


def check_number(value, name):
    """`value` as a finite Python float (bools are refused)."""
    if not is_number(value):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value}")
    return value


def check_class_index(class_index, batch_size, num_classes=None, predicted=None):
    """Per-image target classes as an int64 array of shape `(batch_size,)`.

    The one rule for `class_index` of `lficam_tf.explain` and
    `lficam_tf.metrics`: None (the predicted class), an int (the same class
    for every image) or an int array with one entry per image.

    Args:
        class_index: None, an int, or an int array of shape `(batch_size,)`.
        batch_size: int. The number of images.
        num_classes: int or None. When given, every entry must be in
            `[0, num_classes)`.
        predicted: what None becomes: None (returned as is, for a caller
            that finds the predicted classes itself; the metrics) or an int
            filled in per image (`lficam_tf.explain` passes -1, "the
            prediction", to its compiled explainers).

    Returns:
        An int64 array `(batch_size,)`, or `predicted` when `class_index` and
        `predicted` are None.

    Raises:
        TypeError: `class_index` is not None, an int or an int array (bools
            and floats are refused).
        ValueError: the shape is not `(batch_size,)`, or an entry is out of
            `[0, num_classes)`.
    """
    # numpy here, not at the top: `train_tf.py --help` imports this module.
    import numpy as np

    if class_index is None:
        if predicted is None:
            return None
        return np.full((batch_size,), predicted, np.int64)
    array = None if isinstance(class_index, bool) else np.asarray(class_index)
    if array is None or array.dtype.kind not in "iu":
        if isinstance(array, np.ndarray) and array.ndim:
            received = f"an array of dtype {array.dtype}"
        else:
            received = repr(class_index)
        raise TypeError(
            "`class_index` must be None, an int or an int array of shape "
            "(batch_size,); None is the predicted class. Received: "
            f"class_index={received}"
        )
    if array.ndim == 0:
        array = np.full((batch_size,), int(array))
    if array.shape != (batch_size,):
        raise ValueError(
            "`class_index` must be an int or have one entry per image, shape "
            f"({batch_size},). Received: class_index with shape {array.shape}"
        )
    array = array.astype(np.int64)
    if (
        num_classes is not None
        and array.size
        and (array.min() < 0 or array.max() >= num_classes)
    ):
        raise ValueError(
            f"`class_index` must be in [0, {num_classes}) for {num_classes} "
            f"classes. Received: class_index with values in [{array.min()}, "
            f"{array.max()}]"
        )
    return array


class ImageRangeWarning(UserWarning):
    """Images whose values look scaled to 0..1 or -1..1.

    The package's models take RGB in 0..255 (their preprocessing is inside
    the model); images scaled the usual Keras way read as nearly black, and
    the model then predicts about the same class for all of them, with maps
    that look normal. Shown once per call of `explain` / `evaluate`, every
    call; silence it with `warnings.filterwarnings("ignore",
    category=ImageRangeWarning)`.
    """


# Every call that sees scaled images says so, not only the first one.
warnings.filterwarnings("always", category=ImageRangeWarning, append=True)


def warn_if_scaled(images, name="images", stacklevel=3):
    """Warn (`ImageRangeWarning`) when float `images` all lie in [-1, 1].

    The one rule for "these images look scaled": float values, not all
    equal, all within [-1, 1]. A real RGB batch in 0..255 has values above
    1 unless it is black; uint8 images are never scaled.

    Args:
        images: the whole batch the caller was given (an array).
        name: str. The argument's name, for the message.
        stacklevel: int. As `warnings.warn`'s: 3 points at the caller of
            the function that calls this one.

    Returns:
        bool: whether it warned.

    >>> import numpy as np, warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warn_if_scaled(np.linspace(0, 1, 12).reshape(1, 2, 2, 3))
    True
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    `images` hold values in [0, 1], which looks like images scaled to 0..1; ...
    """
    import numpy as np

    images = np.asarray(images)
    if images.dtype.kind != "f" or not images.size:
        return False
    low, high = float(np.nanmin(images)), float(np.nanmax(images))
    if not (-1.0 <= low < high <= 1.0):
        return False
    scale, fix = (
        ("-1..1", "(images + 1) * 127.5") if low < 0 else ("0..1", "images * 255")
    )
    warnings.warn(
        f"`{name}` hold values in [{low:.3g}, {high:.3g}], which looks like "
        f"images scaled to {scale}; the models take RGB in 0..255 (their "
        "preprocessing is inside the model), and scaled images give about the "
        f"same prediction for every image, with normal-looking maps. Pass {fix}.",
        ImageRangeWarning,
        stacklevel=stacklevel,
    )
    return True
