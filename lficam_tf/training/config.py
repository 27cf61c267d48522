"""`TrainConfig`: every knob of a training run, typed, validated, JSON-able.

A run is described by one frozen dataclass. `TrainConfig.from_preset(name,
**overrides)` starts from a recipe of `lficam_tf.training.presets` and
replaces the given fields; `train_tf.py` builds the same object from its
flags (each flag is a field, documented by the field's `help`). The resolved
configuration is written to the output folder as `config.json` before the
first epoch, and a resumed run must have the same one (`RESUME_IGNORED`
lists the fields that may differ: where and how fast, not what is trained).

This module holds the dataclass (its fields and their help, which
`train_tf.py --help` shows) and how one is made; the parsing and checking of
the values is `lficam_tf.training.config_rules`', the recipes
`lficam_tf.training.presets`'. Neither Keras nor TensorFlow is imported.
"""

import dataclasses
import json

from lficam_tf import checks
from lficam_tf.api_export import lficam_export
from lficam_tf.choices import (  # noqa: F401 (importable from here, as before)
    AUGMENTATIONS,
    HEADS,
    MIXED_PRECISION,
    OPTIMIZERS,
    SCHEDULES,
    VERBOSE,
    WEIGHT_DECAY_MODES,
)
from lficam_tf.training import config_rules
from lficam_tf.training.config_rules import parse_devices, parse_image_size  # noqa: F401
from lficam_tf.training.errors import ConfigError
from lficam_tf.training.presets import get_preset

#: Fields that may change when a run is resumed: they say where the run is
#: written, on which devices and how fast, not what is trained.
RESUME_IGNORED = (
    "output_dir",
    "devices",
    "threads",
    "jit_compile",
    "verbose",
)


#: Test images in attention.png (one row each: the image, then its map), the
#: first of the `attention_images` TensorBoard shows.
FIGURE_IMAGES = 8


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
        "backbone name: cifar_resnet8/20/32/56/110, cifar_densenet_bc100, "
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
        checks.FIN_DEFAULTS["fin_depth"],
        "Feature Importance Network depth (conv-BN units); head 'lficam' only",
    )
    fin_relu: str = _field(
        checks.FIN_DEFAULTS["fin_relu"],
        "FIN ReLUs: 'paired' (after the 2nd and 4th BN, the authors' CIFAR "
        "code) or 'every' (after each BN, their last ImageNet commit); head "
        "'lficam' only",
    )
    fin_width: int | str | None = _field(
        checks.FIN_DEFAULTS["fin_width"],
        "FIN width: 'auto' (the backbone's default: the paper's K -> K FIN on "
        "the CIFAR backbones, a bottleneck of width K/16, at least 64, on "
        "backbones with more than 256 channels), an int (that bottleneck "
        "width) or 'none' (the paper's K -> K on any backbone); head 'lficam' "
        "only",
    )
    stem_stride: int | None = _field(
        None,
        "stem stride of the ImageNet-style ResNets (resnet18/34/50/101/152, "
        "resnet50v2/101v2): 2 (7x7 maps at 224) or 1 (14x14, the authors' last "
        "commit); of the CIFAR ResNets: 1 (the authors') or 2 (64x64 images at "
        "the cost of 32x32 ones); none: the backbone's default",
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
    jit_compile: bool | None = _field(
        None,
        "XLA-compile the training step (default: on where it was measured "
        "faster, see lficam_tf.training.model_setup.use_xla: on GPUs as Keras "
        "decides, on CPU-only machines without AVX-512 for cifar_resnet20 "
        "runs of at least 200 steps on one replica)",
    )
    threads: str = _field(
        "auto",
        "TensorFlow thread pools: 'auto' (1 inter-op, one intra-op per core "
        "on CPU-only machines, TensorFlow's own with GPUs), 'tf' (TensorFlow's "
        "own) or 'INTER,INTRA'",
    )
    attention_images: int = _field(
        16,
        "fixed test images whose maps TensorBoard shows after each epoch; "
        f"attention.png shows the first {FIGURE_IMAGES} of them at the end; 0 "
        "writes neither",
    )
    serving_version: int = _field(1, "version folder of the TF Serving export")
    verbose: str | int = _field(
        "auto",
        "Keras progress output: 'auto', 0 (silent), 1 (bar), 2 (a line per epoch)",
    )

    def __post_init__(self):
        config_rules.normalize(self)
        config_rules.validate(self)

    # --- construction ---

    @classmethod
    def from_preset(cls, preset="shapes", **overrides):
        """The recipe `preset` with `overrides` (field names) replaced."""
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
        # A backbone override drops the preset's stem stride, an option of
        # its backbone (`shapes`: cifar_resnet8's stride-2 stem).
        backbone = overrides.get("backbone")
        if backbone not in (None, values.get("backbone")) and (
            "stem_stride" not in overrides
        ):
            values["stem_stride"] = None
        overrides = dict(overrides)
        config_rules.reresolve_weight_decay_mode(values, overrides)
        values.update(overrides)
        values["preset"] = preset
        return cls(**values)

    def replace(self, **changes):
        """A copy with `changes` (field names) replaced, checked again."""
        check_field_names(changes)
        changes = dict(changes)
        config_rules.reresolve_weight_decay_mode(self.to_dict(), changes)
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


@lficam_export("lficam_tf.training.make_config")
def make_config(config=None, **overrides):
    """A `TrainConfig` from a config, a dict, a preset name or nothing.

    Here, beside `TrainConfig`, so that making a configuration imports
    neither Keras nor TensorFlow (`lficam_tf.training.trainer` imports it
    from here, as before).

    Args:
        config: None (the `preset` override, else "shapes"), a preset name,
            a `TrainConfig`, or a dict of its fields.
        **overrides: `TrainConfig` fields to replace.

    Example:

    >>> make_config("cifar", epochs=30).lr_steps
    (15, 22)
    >>> make_config(epochs=2).dataset
    'shapes'
    """
    if config is None or isinstance(config, str):
        values = dict(overrides)
        preset = values.pop("preset", None) or config or "shapes"
        return TrainConfig.from_preset(preset, **values)
    if isinstance(config, TrainConfig):
        return config.replace(**overrides) if overrides else config
    if isinstance(config, dict):
        values = {**config, **overrides}
        preset = values.pop("preset", "shapes")
        return TrainConfig.from_preset(preset, **values)
    raise TypeError(
        "`config` must be a TrainConfig, a dict of its fields, a preset name or "
        f"None. Received: config={config!r} of type {type(config).__name__}"
    )


def scale_lr_steps(lr_steps, epochs, new_epochs):
    """A recipe's step epochs moved to a run of `new_epochs` epochs.

    The steps keep their fraction of the run (150 and 225 of 300 epochs are
    10 and 15 of 20); steps that fall on epoch 0 or on the last epoch are
    dropped.

    >>> scale_lr_steps((150, 225), 300, 20)
    (10, 15)
    """
    if not checks.is_int(new_epochs):
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
            raise ConfigError(
                f"Unknown training option {key!r}.{checks.did_you_mean(key, names)} "
                f"Options: {', '.join(names)}."
            )


def _jsonable(value):
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
