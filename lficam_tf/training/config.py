"""`TrainConfig`: every knob of a training run, typed, validated, JSON-able.

A run is described by one frozen dataclass. `TrainConfig.from_preset(name,
**overrides)` starts from a recipe of `lficam_tf.training.presets` and
replaces the given fields; `train_tf.py` builds the same object from its
flags (each flag is a field, documented by the field's `help`). The resolved
configuration is written to the output folder as `config.json` before the
first epoch, and a resumed run must have the same one (`RESUME_IGNORED`
lists the fields that may differ: where and how fast, not what is trained).
"""

import dataclasses
import difflib
import json

from lficam_tf import checks
from lficam_tf.api_export import lficam_export
from lficam_tf.choices import AUGMENTATIONS, HEADS

OPTIMIZERS = ("sgd", "adam", "adamw")
WEIGHT_DECAY_MODES = ("auto", "coupled", "decoupled")
SCHEDULES = ("step", "cosine", "constant")
MIXED_PRECISION = ("float16", "bfloat16")
VERBOSE = ("auto", 0, 1, 2)

#: Fields that may change when a run is resumed: they say where the run is
#: written, on which devices and how fast, not what is trained.
RESUME_IGNORED = (
    "output_dir",
    "devices",
    "threads",
    "jit_compile",
    "verbose",
)


@lficam_export("lficam_tf.training.ConfigError")
class ConfigError(ValueError):
    """A training configuration that cannot run; the message says the fix.

    A `ValueError`, so that code catching bad arguments catches it too;
    `train_tf.py` prints it without a traceback and exits with status 2.
    """


def _field(default, help, **kwargs):
    return dataclasses.field(default=default, metadata={"help": help, **kwargs})


@lficam_export("lficam_tf.training.TrainConfig")
@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The configuration of one training run; see each field's `help`.

    Build one from a recipe with `TrainConfig.from_preset("cifar", epochs=10)`
    (or `lficam_tf.training.make_config`), change fields with
    `config.replace(...)`, and save / load it with `to_json` / `from_json`.
    Every value is checked when the object is made; a bad one raises
    `ConfigError` with the fix.

    Example:

    >>> from lficam_tf.training import TrainConfig
    >>> config = TrainConfig.from_preset("cifar", epochs=40, batch_size=32)
    >>> config.backbone, config.epochs, config.lr_steps
    ('cifar_resnet110', 40, (20, 30))
    >>> TrainConfig.from_json(config.to_json()) == config
    True
    """

    # --- data ---
    dataset: str = _field(
        "shapes",
        "'shapes' (built in, generated), a TFDS name (cifar10, cifar100, stl10, "
        "cats_vs_dogs, imagenette, imagenet2012, ...) read from --data-dir, or "
        "the path of an image folder with train/<class>/* and test/<class>/*",
    )
    data_dir: str | None = _field(
        None, "TFDS data folder (TFDS datasets only; never downloads)"
    )
    image_size: tuple | None = _field(
        None,
        "model input size, 'S' or 'HxW' (default: the dataset's own size; "
        "needed when image sizes vary)",
    )
    num_train: int | None = _field(
        None, "use at most this many training images ('shapes': generate this many)"
    )
    num_test: int | None = _field(
        None, "use at most this many test images ('shapes': generate this many)"
    )
    augmentation: str = _field(
        "none",
        "training augmentation: 'none', 'cifar' (padded random crop + flip) or "
        "'imagenet' (random resized crop + flip; evaluation: resize + centre crop)",
    )
    randaugment: bool = _field(False, "add RandAugment to the training images")
    mixup: float = _field(0.0, "MixUp Beta(alpha, alpha) parameter; 0 is off")
    cutmix: float = _field(
        0.0,
        "CutMix strength in [0, 1], Keras CutMix's factor: the Beta parameter "
        "is drawn from (0, cutmix) per batch; 0 is off",
    )

    # --- model ---
    backbone: str = _field(
        "cifar_resnet20",
        "backbone name: cifar_resnet20/32/56/110, cifar_densenet_bc100, "
        "cifar_resnext29_8x64d, resnet18/34, keras.applications' resnet50/101/152, "
        "resnet50v2/101v2, densenet121/169, efficientnetb0, efficientnetv2b0, "
        "mobilenetv2, convnext_tiny, vgg16/19 (lficam_tf.list_backbones())",
    )
    head: str = _field(
        "lficam", "'lficam', 'abn' (Attention Branch Network) or 'baseline'"
    )
    weights: str | None = _field(
        None, "backbone weights: 'imagenet' or a weights file (default: random)"
    )
    fin_depth: int = _field(
        4, "Feature Importance Network depth (conv-BN units); head 'lficam' only"
    )
    fin_relu: str = _field(
        "paired",
        "FIN ReLUs: 'paired' (after the 2nd and 4th BN, the authors' CIFAR "
        "code) or 'every' (after each BN, their last ImageNet commit); head "
        "'lficam' only",
    )
    fin_width: int | None = _field(
        None,
        "FIN hidden width (default: the feature channels, the paper's); head "
        "'lficam' only",
    )
    stem_stride: int | None = _field(
        None,
        "stem stride of the ImageNet-style ResNets (resnet18/34/50/101/152, "
        "resnet50v2/101v2): 2 (7x7 maps at 224) or 1 (14x14, the authors' last "
        "commit)",
    )

    # --- optimisation ---
    epochs: int = _field(10, "number of epochs")
    batch_size: int = _field(64, "global batch size (split over the devices)")
    optimizer: str = _field("sgd", "'sgd' (with momentum), 'adam' or 'adamw'")
    learning_rate: float = _field(0.1, "peak learning rate")
    schedule: str = _field(
        "cosine",
        "'step' (x lr_decay at each of --lr-steps), 'cosine' (to 0) or 'constant'",
    )
    lr_steps: tuple = _field(
        (), "epochs at which the step schedule multiplies the rate by --lr-decay"
    )
    lr_decay: float = _field(0.1, "factor of each step of the step schedule")
    warmup_epochs: float = _field(
        0.0, "cosine schedule: linear warm-up from 0 over this many epochs"
    )
    momentum: float | None = _field(None, "SGD momentum (default: 0.9)")
    weight_decay: float = _field(
        1e-4, "weight decay factor, applied as --weight-decay-mode says"
    )
    weight_decay_mode: str = _field(
        "auto",
        "how weight decay acts: 'coupled' (L2: wd * w added to the gradient "
        "before the momentum, as the authors' PyTorch SGD; the cifar, stl10, "
        "catdog and imagenet presets), 'decoupled' (w -= lr * wd * w outside "
        "the momentum, AdamW's; the shapes preset) or 'auto' (coupled for sgd, "
        "decoupled for adam and adamw, which only decouple)",
        shown_default="auto",
    )
    seed: int = _field(0, "seed of the data order, augmentation and initialisation")

    # --- run ---
    preset: str = _field(
        "shapes", "the recipe the other defaults come from (see --list-presets)"
    )
    output_dir: str | None = _field(
        None, "output folder (default: a fresh runs/<preset>-<time> folder)"
    )
    devices: int | tuple | None = _field(
        None,
        "number of devices (GPUs, else CPUs) or a comma-separated device list, "
        "e.g. '2' or '/gpu:0,/gpu:1'; default: every GPU (MirroredStrategy "
        "when there are several), or TF_CONFIG's workers",
    )
    sync_batchnorm: bool | None = _field(
        None,
        "batch statistics over all replicas (default: on with several "
        "replicas, so that replicas stay identical)",
    )
    mixed_precision: str | None = _field(
        None, "'float16' or 'bfloat16' mixed precision (default: float32)"
    )
    jit_compile: bool = _field(False, "XLA-compile the training step")
    threads: str = _field(
        "auto",
        "TensorFlow thread pools: 'auto' (1 inter-op, one intra-op per core "
        "on CPU-only machines, TensorFlow's own with GPUs), 'tf' (TensorFlow's "
        "own) or 'INTER,INTRA'",
    )
    attention_images: int = _field(
        16, "fixed test images shown in attention.png and TensorBoard each epoch"
    )
    serving_version: int = _field(1, "version folder of the TF Serving export")
    verbose: str | int = _field(
        "auto",
        "Keras progress output: 'auto', 0 (silent), 1 (bar), 2 (a line per epoch)",
    )

    def __post_init__(self):
        _normalize(self)
        _validate(self)

    # --- construction ---

    @classmethod
    def from_preset(cls, preset="shapes", **overrides):
        """The recipe `preset` with `overrides` (field names) replaced."""
        from lficam_tf.training.presets import get_preset

        values = dict(get_preset(preset))
        check_field_names(overrides)
        if (
            values.get("schedule") == "step"
            and "epochs" in overrides
            and "lr_steps" not in overrides
            and "schedule" not in overrides
        ):
            values["lr_steps"] = scale_lr_steps(
                values["lr_steps"], values["epochs"], overrides["epochs"]
            )
            if not values["lr_steps"]:
                values["schedule"] = "constant"
        # A schedule override drops the preset's options of its old schedule.
        schedule = overrides.get("schedule")
        if schedule not in (None, "step") and "lr_steps" not in overrides:
            values["lr_steps"] = ()
        if schedule not in (None, "cosine") and "warmup_epochs" not in overrides:
            values["warmup_epochs"] = 0.0
        _reresolve_weight_decay_mode(values, overrides)
        values.update(overrides)
        values["preset"] = preset
        return cls(**values)

    def replace(self, **changes):
        """A copy with `changes` (field names) replaced, checked again."""
        check_field_names(changes)
        changes = dict(changes)
        _reresolve_weight_decay_mode(self.to_dict(), changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """A JSON-ready dict (tuples as lists)."""
        return {
            f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)
        }

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, values):
        check_field_names(values)
        return cls(**values)

    @classmethod
    def from_json(cls, text):
        values = json.loads(text)
        # A config.json without the field was written when every optimizer
        # decayed decoupled: its run goes on (resumes) the way it started.
        if isinstance(values, dict):
            values.setdefault("weight_decay_mode", "decoupled")
        return cls.from_dict(values)

    def differences(self, other, ignore=RESUME_IGNORED):
        """`{field: (self's value, other's value)}` for fields that differ."""
        return {
            f.name: (getattr(self, f.name), getattr(other, f.name))
            for f in dataclasses.fields(self)
            if f.name not in ignore and getattr(self, f.name) != getattr(other, f.name)
        }

    # --- derived ---

    @property
    def uses_soft_labels(self):
        """Whether training labels are one-hot rows (MixUp / CutMix)."""
        return self.mixup > 0 or self.cutmix > 0


def _reresolve_weight_decay_mode(values, changes):
    """A new optimizer brings its own weight decay rule, unless one is given.

    `changes` gets `weight_decay_mode="auto"` when it changes the optimizer
    of `values` without naming a rule, as a schedule override drops the
    options of the preset's schedule.
    """
    optimizer = changes.get("optimizer", values.get("optimizer"))
    if optimizer != values.get("optimizer") and "weight_decay_mode" not in changes:
        changes["weight_decay_mode"] = "auto"


def scale_lr_steps(lr_steps, epochs, new_epochs):
    """A recipe's step epochs moved to a run of `new_epochs` epochs.

    The steps keep their fraction of the run (150 and 225 of 300 epochs are
    10 and 15 of 20); steps that fall on epoch 0 or on the last epoch are
    dropped.

    >>> scale_lr_steps((150, 225), 300, 20)
    (10, 15)
    """
    if not _is_int(new_epochs):
        return tuple(lr_steps)
    scaled = sorted({int(step * new_epochs / epochs) for step in lr_steps})
    return tuple(s for s in scaled if 1 <= s < new_epochs)


def field_names():
    return [f.name for f in dataclasses.fields(TrainConfig)]


def check_field_names(values):
    """Raise `ConfigError` naming the closest field for each unknown name."""
    names = field_names()
    for key in values:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"Unknown training option {key!r}.{hint} Options: {', '.join(names)}."
            )


def _jsonable(value):
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


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


def _normalize(config):
    _set(config, "image_size", parse_image_size(config.image_size))
    _set(config, "devices", parse_devices(config.devices))
    if config.augmentation is None:
        _set(config, "augmentation", "none")
    if config.weight_decay_mode == "auto":
        rule = "coupled" if config.optimizer == "sgd" else "decoupled"
        _set(config, "weight_decay_mode", rule)
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
    for name in (
        "learning_rate",
        "lr_decay",
        "warmup_epochs",
        "momentum",
        "weight_decay",
        "mixup",
        "cutmix",
    ):
        value = getattr(config, name)
        if _is_number(value):
            _set(config, name, float(value))


def _choice(config, name, choices):
    value = getattr(config, name)
    if value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"`{name}` must be one of {choices}. Received: {name}={value!r}.{hint}"
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
        checks.check_int, getattr(config, name), name, minimum=minimum, optional=optional
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


def _validate(config):
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
    for name in ("randaugment", "jit_compile"):
        if not isinstance(getattr(config, name), bool):
            raise ConfigError(
                f"`{name}` must be True or False. Received: {name}={getattr(config, name)!r}"
            )
    if config.sync_batchnorm not in (None, True, False):
        raise ConfigError(
            "`sync_batchnorm` must be True, False or None (automatic). "
            f"Received: sync_batchnorm={config.sync_batchnorm!r}"
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
