"""The command line of `train_tf.py`: one flag per `TrainConfig` field.

Flags are made from the dataclass, so `--help` documents every field with
its help text and the default preset's value, and a flag that is not given
keeps the preset's value. User errors (bad flags, conflicting options, a
missing data folder) print one message that says the fix and exit with
status 2, without a traceback (`--traceback` shows it). The parser needs
neither Keras nor TensorFlow, so `--help` is instant; TensorFlow loads once
the flags are parsed (`lficam_tf.tf_logs`: without the no-GPU lines of a
CPU machine).
"""

import argparse
import dataclasses
import sys
import types
import typing

from lficam_tf.choices import RELU_PLACEMENTS
from lficam_tf.training.config import (
    AUGMENTATIONS,
    HEADS,
    MIXED_PRECISION,
    OPTIMIZERS,
    SCHEDULES,
    WEIGHT_DECAY_MODES,
    ConfigError,
    TrainConfig,
)
from lficam_tf.training.errors import TrainingDiverged
from lficam_tf.training.presets import PRESETS, list_presets

_CHOICES = {
    "augmentation": AUGMENTATIONS,
    "head": HEADS,
    "fin_relu": RELU_PLACEMENTS,
    "optimizer": OPTIMIZERS,
    "weight_decay_mode": WEIGHT_DECAY_MODES,
    "schedule": SCHEDULES,
    "mixed_precision": MIXED_PRECISION,
    "preset": tuple(PRESETS),
}

_EPILOG = """\
examples:
  python train_tf.py                                  # built-in data, ~5 min on a laptop CPU
  python train_tf.py --epochs 2 --output-dir runs/quick
  python train_tf.py --preset cifar --data-dir ~/tensorflow_datasets
  python train_tf.py --preset cifar --dataset cifar100 --epochs 30 --head abn
  python train_tf.py --dataset path/to/folder --image-size 64 --backbone resnet18
  python train_tf.py --preset stl10 --devices 2 --mixed-precision bfloat16
  TF_CONFIG='{...}' python train_tf.py --output-dir /shared/run1   # on each worker
  python train_tf.py --resume runs/shapes-20250101-120000

Every flag overrides the preset; the run's folder receives config.json
(first), a checkpoint every epoch, best.keras, training_log.csv,
tensorboard/, and at the end model.keras, serving/<version>/ (TF Serving),
attention.png and metrics.json (last). Rerunning a killed command resumes it.
"""


def _optional(annotation):
    """Whether a field's type admits None (`X | None`)."""
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and (
        type(None) in typing.get_args(annotation)
    )


def _converter(field):
    """A string -> value function for the field's flag ('none' is None)."""
    base = {int: int, float: float}
    annotation = field.type
    inner = annotation
    if _optional(annotation):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        # `int | str | None` (fin_width: 4, 'auto' or none): an int if it is one.
        inner = args[0] if len(args) == 1 else (int, str) if int in args else str

    def convert(text):
        if _optional(annotation) and text.lower() == "none":
            return None
        if inner == (int, str):
            try:
                return int(text)
            except ValueError:
                return text
        if inner in base:
            try:
                return base[inner](text)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"expected {'an integer' if inner is int else 'a number'}, got {text!r}"
                ) from None
        return text

    return convert


def build_parser():
    """The `argparse` parser of `train_tf.py`."""
    defaults = TrainConfig.from_preset("shapes")
    parser = argparse.ArgumentParser(
        prog="train_tf.py",
        description=(
            "Train an LFI-CAM (or ABN, or plain) classifier, evaluate its accuracy "
            "and attention maps, and export it for TF Serving. With no flags: a "
            "small LFI-CAM on the built-in 'shapes' dataset."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        argument_default=argparse.SUPPRESS,
    )
    groups = {}
    for title in ("data", "model", "optimisation", "run"):
        groups[title] = parser.add_argument_group(title)
    order = {
        "dataset": "data",
        "backbone": "model",
        "epochs": "optimisation",
        "preset": "run",
    }
    group = groups["data"]
    for field in dataclasses.fields(TrainConfig):
        group = groups.get(order.get(field.name)) or group
        flag = "--" + field.name.replace("_", "-")
        default = field.metadata.get("shown_default", getattr(defaults, field.name))
        shown = "none" if default is None else default
        if isinstance(shown, tuple):
            shown = ",".join(map(str, shown)) or "none"
        help_text = field.metadata["help"]
        if default is not None or "default" not in help_text:
            help_text += f" (default: {shown})"
        help_text = help_text.replace("%", "%%")
        if field.type in (bool, bool | None):  # None: automatic
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, help=help_text
            )
        elif field.name in _CHOICES:
            choices = list(_CHOICES[field.name]) + (
                ["none"] if _optional(field.type) else []
            )
            group.add_argument(
                flag,
                type=_converter(field),
                choices=[None if c == "none" else c for c in choices],
                metavar="{" + ",".join(choices) + "}",
                help=help_text,
            )
        else:
            group.add_argument(
                flag, type=_converter(field), metavar=field.name.upper(), help=help_text
            )
    run = groups["run"]
    run.add_argument(
        "--resume",
        metavar="DIR",
        help="continue the run in DIR with its saved configuration (other flags "
        "must agree, except devices, threads, jit-compile and verbose)",
    )
    run.add_argument(
        "--list-presets", action="store_true", help="print the presets and exit"
    )
    run.add_argument(
        "--print-config",
        action="store_true",
        help="print the resolved configuration as JSON and exit",
    )
    run.add_argument(
        "--traceback",
        action="store_true",
        help="show the Python traceback of configuration errors",
    )
    return parser


def _presets_text():
    lines = []
    for name in list_presets():
        values = ", ".join(f"{k}={v}" for k, v in PRESETS[name].items())
        lines.append(f"{name}: {values}")
    return "\n".join(lines)


def main(argv=None):
    """Run `train_tf.py` with `argv` (default: `sys.argv[1:]`).

    Returns:
        The exit status: 0 on success, 2 for a configuration error, 1 for
        a run whose loss turned inf or NaN (`TrainingDiverged`).
    """
    parser = build_parser()
    args = vars(parser.parse_args(argv))
    show_traceback = args.pop("traceback", False)
    if args.pop("list_presets", False):
        print(_presets_text())
        return 0
    print_config = args.pop("print_config", False)
    resume = args.pop("resume", None)

    # TensorFlow loads only now, after the flags are parsed (an instant
    # --help), and without the no-GPU lines of a CPU machine.
    from lficam_tf.tf_logs import import_tensorflow

    import_tensorflow()
    from lficam_tf.training.config import field_names, make_config
    from lficam_tf.training.run_dir import resume_config
    from lficam_tf.training.trainer import train

    overrides = {k: v for k, v in args.items() if k in field_names()}
    try:
        if resume is not None:
            config = resume_config(resume, overrides)
        else:
            config = make_config(overrides.pop("preset", None), **overrides)
        if print_config:
            print(config.to_json(), end="")
            return 0
        train(config)
    except ConfigError as error:
        if show_traceback:
            raise
        print(f"train_tf.py: error: {error}", file=sys.stderr)
        return 2
    except TrainingDiverged as error:
        if show_traceback:
            raise
        print(f"train_tf.py: error: {error}", file=sys.stderr)
        return 1
    return 0
