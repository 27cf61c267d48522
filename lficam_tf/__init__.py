"""lficam_tf: CNN classifiers that explain themselves (LFI-CAM) in Keras.

>>> import lficam_tf
>>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
>>> sorted(model.output)
['attention', 'importance', 'logits']

The model code (layers, backbones, models) is `keras.ops` only and imports no
TensorFlow. The subpackages that need TensorFlow load on first use:
`lficam_tf.data`, `lficam_tf.training` (and `lficam_tf.train(...)`),
`lficam_tf.explain(...)`, `lficam_tf.metrics`, `lficam_tf.evaluation`,
`lficam_tf.export(...)`.

The package's own command lines (`COMMANDS`) import it without Keras: they
parse their flags first (so that `--help` is instant and a bad flag is
answered at once) and load Keras, TensorFlow and the model classes after.
Everywhere else `import lficam_tf` loads the model code, which registers
the classes with Keras (`.keras` files then load without `custom_objects`).
"""

import importlib
import os
import sys

#: The command lines (their `sys.argv[0]` or `python -m` module), which load
#: the model code only once they have parsed their flags.
COMMANDS = ("train_tf.py", "lficam-train", "lficam-explain", "lficam-eval")
_COMMAND_MODULES = (
    "lficam_tf.training.cli",
    "lficam_tf.explain.cli",
    "lficam_tf.evaluation.cli",
)


def _running_a_command():
    if sys.argv and os.path.basename(sys.argv[0]) in COMMANDS:
        return True
    argv = getattr(sys, "orig_argv", [])
    return "-m" in argv[:-1] and argv[argv.index("-m") + 1] in _COMMAND_MODULES


# Names of the model code, loaded on first use by a command line.
_MODEL_CODE = {
    "backbones": None,
    "graph": None,
    "layers": None,
    "models": None,
    "ops": None,
    "optimizers": None,
    "presets": None,
    "get_backbone_spec": "backbones",
    "list_backbones": "backbones",
    "ABNClassifier": "models",
    "BaselineClassifier": "models",
    "LFICAMClassifier": "models",
    "build_model": "models",
}

if not _running_a_command():
    from lficam_tf.tf_logs import without_no_gpu_noise

    # Keras loads TensorFlow here: without the lines of a machine with no GPU
    # ("failed call to cuInit: ... CUDA error"), which read like a failure.
    with without_no_gpu_noise():
        from lficam_tf import backbones, graph, layers, models, ops, optimizers, presets
        from lficam_tf.backbones import get_backbone_spec, list_backbones
        from lficam_tf.models import (
            ABNClassifier,
            BaselineClassifier,
            LFICAMClassifier,
            build_model,
        )

__version__ = "0.1.0"

_LAZY_SUBPACKAGES = ("data", "evaluation", "explain", "export", "metrics", "training")

__all__ = [
    "ABNClassifier",
    "BaselineClassifier",
    "LFICAMClassifier",
    "backbones",
    "build_model",
    "get_backbone_spec",
    "graph",
    "layers",
    "list_backbones",
    "models",
    "ops",
    "optimizers",
    "presets",
    "train",
    *_LAZY_SUBPACKAGES,
]


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f"lficam_tf.{name}")
    if name in _MODEL_CODE:
        module = importlib.import_module(f"lficam_tf.{_MODEL_CODE[name] or name}")
        return module if _MODEL_CODE[name] is None else getattr(module, name)
    if name == "train":
        return importlib.import_module("lficam_tf.training").train
    raise AttributeError(f"module 'lficam_tf' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
