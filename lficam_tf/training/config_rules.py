"""The rules of `TrainConfig`: how its values are parsed, normalised, checked.

`TrainConfig.__post_init__` calls `normalize` (flag strings such as
`"64x48"` or `"150,225"` to their one form) and then `validate` (every value
and every combination, each refused with a `ConfigError` that says the fix).
The rules shared with the rest of the package (integers, image sizes, MixUp
and CutMix, the FIN options) are `lficam_tf.checks`'; this module reports
their `TypeError` / `ValueError` as a `ConfigError`, which `train_tf.py`
prints without a traceback. Neither Keras nor TensorFlow is imported.
"""

import dataclasses
import math

from lficam_tf import checks
from lficam_tf.choices import (
    AUGMENTATIONS,
    HEADS,
    MIXED_PRECISION,
    OPTIMIZERS,
    SCHEDULES,
    VERBOSE,
    WEIGHT_DECAY_MODES,
)
from lficam_tf.training.errors import ConfigError


def _set(config, name, value):
    object.__setattr__(config, name, value)


_is_int = checks.is_int
_is_number = checks.is_number


def parse_image_size(value):
    """`64`, `"64"`, `"64x48"`, `(64, 48)` -> `(64, 48)`; None stays None."""
    if value is None:
        return None
    if _is_int(value):
        return (int(value), int(value))
    if isinstance(value, str):
        parts = value.lower().replace(",", "x").split("x")
        if all(p.strip().isdigit() for p in parts) and len(parts) in (1, 2):
            sizes = [int(p) for p in parts]
            return (sizes[0], sizes[-1])
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(map(_is_int, value))
    ):
        return (int(value[0]), int(value[1]))
    raise ConfigError(
        "`image_size` must be a size 'S' or 'HxW' (e.g. 64 or '224x224'). "
        f"Received: image_size={value!r}"
    )


def parse_devices(value):
    """`2`, `"2"`, `"/gpu:0,/gpu:1"`, `["/gpu:0"]` -> int or tuple of str."""
    if value is None or _is_int(value):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        value = [d for d in (p.strip() for p in text.split(",")) if d]
    if (
        isinstance(value, (tuple, list))
        and value
        and all(isinstance(d, str) for d in value)
    ):
        return tuple(value)
    raise ConfigError(
        "`devices` must be a number of devices or a list of device names such "
        f"as '/gpu:0,/gpu:1'. Received: devices={value!r}"
    )


def resolve_weight_decay_mode(mode, optimizer):
    """The weight decay rule "auto" stands for: the optimizer's own.

    Coupled L2 for SGD (the authors' PyTorch SGD), decoupled for Adam and
    AdamW (which only decouple); any other mode is returned as given.

    >>> resolve_weight_decay_mode("auto", "sgd"), resolve_weight_decay_mode("auto", "adamw")
    ('coupled', 'decoupled')
    """
    if mode != "auto":
        return mode
    return "coupled" if optimizer == "sgd" else "decoupled"


def reresolve_weight_decay_mode(values, changes):
    """A new optimizer brings its own weight decay rule, unless one is given.

    `changes` (a dict, changed in place) gets `weight_decay_mode="auto"`
    when it changes the optimizer of `values` without naming a rule, as a
    schedule override drops the options of the preset's schedule.
    """
    optimizer = changes.get("optimizer", values.get("optimizer"))
    if optimizer != values.get("optimizer") and "weight_decay_mode" not in changes:
        changes["weight_decay_mode"] = "auto"


def normalize(config):
    """Bring `config`'s values to their one form (in place, before `validate`)."""
    _set(config, "image_size", parse_image_size(config.image_size))
    _set(config, "devices", parse_devices(config.devices))
    if config.augmentation is None:
        _set(config, "augmentation", "none")
    _set(
        config,
        "weight_decay_mode",
        resolve_weight_decay_mode(config.weight_decay_mode, config.optimizer),
    )
    steps = config.lr_steps
    if isinstance(steps, str):
        try:
            steps = [int(s) for s in steps.replace(",", " ").split()]
        except ValueError:
            steps = config.lr_steps
    if isinstance(steps, (list, tuple)):
        _set(config, "lr_steps", tuple(steps))
    if isinstance(config.verbose, str) and config.verbose.isdigit():
        _set(config, "verbose", int(config.verbose))
    for name in FLOAT_FIELDS:
        value = getattr(config, name)
        if _is_number(value):
            _set(config, name, float(value))


def _choice(config, name, choices):
    value = getattr(config, name)
    if value not in choices:
        raise ConfigError(
            f"`{name}` must be one of {choices}. Received: {name}={value!r}."
            + checks.did_you_mean(value, choices)
        )


def _as_config_error(check, *args, **kwargs):
    """`check(*args, **kwargs)` with its TypeError / ValueError a ConfigError.

    The rules and messages are `lficam_tf.checks`'; a configuration reports
    every bad value as a `ConfigError` (a `ValueError`), which `train_tf.py`
    prints without a traceback.
    """
    try:
        return check(*args, **kwargs)
    except (TypeError, ValueError) as error:
        raise ConfigError(str(error)) from None


def _positive_int(config, name, optional=False, minimum=1):
    _as_config_error(
        checks.check_int,
        getattr(config, name),
        name,
        minimum=minimum,
        optional=optional,
    )


def _number(config, name, low=0.0, high=None, open_low=False):
    value = getattr(config, name)
    ok = _is_number(value) and (value > low if open_low else value >= low)
    if ok and high is not None:
        ok = value <= high
    if not ok:
        bound = f"> {low}" if open_low else f">= {low}"
        if high is not None:
            bound += f" and <= {high}"
        raise ConfigError(
            f"`{name}` must be a number {bound}. Received: {name}={value!r}"
        )


#: The fields that hold a real number (float) rather than a count.
FLOAT_FIELDS = (
    "learning_rate",
    "lr_decay",
    "warmup_epochs",
    "momentum",
    "weight_decay",
    "mixup",
    "cutmix",
)


def _finite(config):
    """Refuse inf and NaN in every number field, before the other rules.

    A range test such as `value > 0` lets `inf` through (and a NaN learning
    rate of `inf` trains a model of NaNs that looks finished), so each number
    is first checked to be finite, with one message for all of them.
    """
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if _is_number(value) and not math.isfinite(value):
            flag = "--" + field.name.replace("_", "-")
            raise ConfigError(
                f"`{field.name}` must be a finite number. Received: "
                f"{field.name}={value!r}. Pass a number such as {flag} "
                f"{_FINITE_EXAMPLE.get(field.name, 1)}."
            )


_FINITE_EXAMPLE = {
    "learning_rate": 0.1,
    "lr_decay": 0.1,
    "warmup_epochs": 0,
    "momentum": 0.9,
    "weight_decay": "1e-4",
    "mixup": 0,
    "cutmix": 0,
}


def validate(config):
    """Raise `ConfigError`, with the fix, for the first value that cannot run."""
    _finite(config)
    for name in ("dataset", "backbone", "preset"):
        value = getattr(config, name)
        if not isinstance(value, str) or not value:
            raise ConfigError(
                f"`{name}` must be a non-empty str. Received: {name}={value!r}"
            )
    for name in ("data_dir", "weights", "output_dir"):
        value = getattr(config, name)
        if value is not None and not isinstance(value, str):
            raise ConfigError(
                f"`{name}` must be a str or None. Received: {name}={value!r}"
            )
    _choice(config, "augmentation", AUGMENTATIONS)
    _choice(config, "head", HEADS)
    _choice(config, "optimizer", OPTIMIZERS)
    _choice(config, "weight_decay_mode", WEIGHT_DECAY_MODES)
    _choice(config, "schedule", SCHEDULES)
    _choice(config, "verbose", VERBOSE)
    if config.mixed_precision is not None:
        _choice(config, "mixed_precision", MIXED_PRECISION)
    for name in ("epochs", "batch_size", "serving_version"):
        _positive_int(config, name)
    _positive_int(config, "attention_images", minimum=0)
    _positive_int(config, "seed", minimum=0)
    for name in ("num_train", "num_test"):
        _positive_int(config, name, optional=True)
    _as_config_error(
        checks.check_fin_options,
        config.head,
        config.fin_depth,
        config.fin_relu,
        config.fin_width,
        fix="use --head lficam",
    )
    if config.stem_stride not in (None, 1, 2):
        raise ConfigError(
            f"`stem_stride` must be 1, 2 or None. Received: stem_stride={config.stem_stride!r}"
        )
    _as_config_error(checks.check_image_size, config.image_size, optional=True)
    _number(config, "learning_rate", open_low=True)
    _number(config, "lr_decay", open_low=True, high=1.0)
    if config.momentum is not None:
        _number(config, "momentum", high=1.0)
    _number(config, "weight_decay")
    for name in ("mixup", "cutmix"):
        _as_config_error(checks.check_mixing, getattr(config, name), name)
    _number(config, "warmup_epochs")
    if not isinstance(config.randaugment, bool):
        raise ConfigError(
            "`randaugment` must be True or False. "
            f"Received: randaugment={config.randaugment!r}"
        )
    for name in ("sync_batchnorm", "jit_compile"):
        value = getattr(config, name)
        if value is not None and not isinstance(value, bool):
            raise ConfigError(
                f"`{name}` must be True, False or None (automatic). "
                f"Received: {name}={value!r}"
            )
    _validate_threads(config.threads)
    _validate_devices(config.devices)
    _validate_schedule(config)
    if config.optimizer != "sgd" and config.weight_decay_mode == "coupled":
        raise ConfigError(
            "`weight_decay_mode` must be 'decoupled' with optimizer="
            f"{config.optimizer!r}: Keras' Adam and AdamW decay the weights "
            "outside the update (AdamW by definition), and coupled L2 is "
            f"implemented for SGD only. Received: optimizer={config.optimizer!r}, "
            "weight_decay_mode='coupled'. Use --weight-decay-mode decoupled (or "
            "auto), or --optimizer sgd."
        )
    if config.optimizer != "sgd" and config.momentum is not None:
        raise ConfigError(
            f"`momentum` applies to optimizer='sgd' only. Received: "
            f"optimizer={config.optimizer!r}, momentum={config.momentum!r}. Drop "
            "--momentum, or use --optimizer sgd."
        )


def _validate_threads(threads):
    if threads in ("auto", "tf"):
        return
    parts = threads.split(",") if isinstance(threads, str) else []
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        return
    raise ConfigError(
        "`threads` must be 'auto', 'tf' or 'INTER,INTRA' (e.g. '1,2'). "
        f"Received: threads={threads!r}"
    )


def _validate_devices(devices):
    if devices is None:
        return
    if _is_int(devices) and devices < 1:
        raise ConfigError(
            f"`devices` must be at least 1. Received: devices={devices!r}"
        )
    if isinstance(devices, tuple) and len(set(devices)) != len(devices):
        raise ConfigError(
            f"`devices` must not repeat a device. Received: devices={','.join(devices)}"
        )


def _validate_schedule(config):
    steps = config.lr_steps
    if not isinstance(steps, tuple) or not all(_is_int(s) for s in steps):
        raise ConfigError(
            "`lr_steps` must be a list of epochs, e.g. '150,225'. "
            f"Received: lr_steps={steps!r}"
        )
    if config.schedule == "step":
        if not steps:
            raise ConfigError(
                "schedule='step' needs the epochs of its steps. Pass --lr-steps, "
                "e.g. --lr-steps 150,225, or use --schedule cosine."
            )
        if (
            list(steps) != sorted(set(steps))
            or steps[0] < 1
            or steps[-1] >= config.epochs
        ):
            raise ConfigError(
                "`lr_steps` must be increasing epochs between 1 and epochs - 1 "
                f"= {config.epochs - 1}, or the steps never happen. Received: "
                f"lr_steps={','.join(map(str, steps))}, epochs={config.epochs}. "
                "Lower --lr-steps with --epochs (or use --schedule cosine)."
            )
    elif steps:
        raise ConfigError(
            f"`lr_steps` applies to schedule='step' only. Received: "
            f"schedule={config.schedule!r}, lr_steps={','.join(map(str, steps))}. "
            "Drop --lr-steps, or pass --schedule step."
        )
    if config.warmup_epochs and config.schedule != "cosine":
        raise ConfigError(
            f"`warmup_epochs` applies to schedule='cosine' only. Received: "
            f"schedule={config.schedule!r}, warmup_epochs={config.warmup_epochs}. "
            "Pass --warmup-epochs 0, or --schedule cosine."
        )
    if config.warmup_epochs >= config.epochs:
        raise ConfigError(
            f"`warmup_epochs` must be below epochs={config.epochs}. Received: "
            f"warmup_epochs={config.warmup_epochs}"
        )
