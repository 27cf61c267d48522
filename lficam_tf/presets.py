"""The trained classifiers shipped with the package, loaded by name.

Presets in keras-hub's sense: a name, a table of what it was trained as,
and weights files shipped in `lficam_tf/weights/` (package data, see
`setup.py`). `build_model(backbone, num_classes, head=..., weights=name)`
builds the classifier a name of `NAMED_WEIGHTS` was trained as and loads
the whole of it (backbone, head, classifier) from its file, as
`keras.applications` loads `"imagenet"`; nothing is downloaded. A model
takes them only when built exactly as they were trained: one of the
name's `backbones`, its `num_classes` and `input_shape`, and every other
`build_model` option at its default (`DEFAULT_OPTIONS`).

`manifest.json` beside the files records, for each one, its test accuracy,
the run and recipe it comes from, its SHA-256 and size
(`experiments/ship_checkpoints.py` writes both). Not to be confused with
the training presets (`train_tf.py --preset cifar`), recipes of
`lficam_tf.training.presets`.

Imports neither Keras nor TensorFlow.

Example:

>>> from lficam_tf.presets import NAMED_WEIGHTS, named_weights_file_name
>>> sorted(NAMED_WEIGHTS)
['cifar10']
>>> NAMED_WEIGHTS["cifar10"]["backbones"], NAMED_WEIGHTS["cifar10"]["heads"]
(('cifar_resnet20',), ('lficam', 'abn', 'baseline'))
>>> named_weights_file_name("cifar10", "cifar_resnet20", "lficam")
'cifar_resnet20_lficam_cifar10.weights.h5'

Loading one (`head="abn"` and `head="baseline"` load the other two):

```python
model = lficam_tf.build_model(
    "cifar_resnet20", num_classes=10, head="lficam", weights="cifar10"
)
```
"""

import json
import os
import pathlib

from lficam_tf.checks import FIN_DEFAULTS, weights_mismatch_error

#: Folder of the shipped classifiers' weights files (package data).
PRETRAINED_DIR = pathlib.Path(__file__).resolve().parent / "weights"

#: The manifest in `PRETRAINED_DIR`: for each shipped file its dataset,
#: backbone, head, test accuracy, the run it comes from, SHA-256 and size.
MANIFEST_NAME = "manifest.json"

CIFAR10_CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

#: The presets: each name of `build_model`'s `weights` and what it was
#: trained as. A model takes them only when built as they were trained (one
#: of `backbones`, one of `heads`, `num_classes`, `input_shape`, every other
#: option at its default); the file of each backbone and head is
#: `named_weights_file_name(name, backbone, head)` in `PRETRAINED_DIR`.
NAMED_WEIGHTS = {
    "cifar10": {
        "description": (
            "cifar_resnet20 trained on CIFAR-10 for 15 epochs, the best run "
            "of each head in the study of docs/RESULTS.md (83-84 % test "
            "accuracy; the README's table)."
        ),
        "dataset": "CIFAR-10",
        "backbones": ("cifar_resnet20",),
        "heads": ("lficam", "abn", "baseline"),
        "num_classes": 10,
        "input_shape": (32, 32, 3),
        "class_names": CIFAR10_CLASS_NAMES,
        "command": "python experiments/ship_checkpoints.py",
    },
}

#: The `build_model` options every preset was built with: `build_model`'s
#: defaults (the FIN's are `lficam_tf.checks.FIN_DEFAULTS`). A model built
#: with another value cannot take a preset's weights.
DEFAULT_OPTIONS = {
    "feature_layer": None,
    "preprocessing": "auto",
    **FIN_DEFAULTS,
    "stem_stride": None,
}


def named_weights_text():
    """The presets for a message, e.g. `"'cifar10': CIFAR-10, cifar_resnet20"`."""
    return "; ".join(
        f"{name!r}: {spec['dataset']}, {'/'.join(spec['backbones'])}"
        for name, spec in NAMED_WEIGHTS.items()
    )


def validate_weights_argument(weights):
    """`build_model`'s `weights` as None or a str.

    Raises:
        TypeError: `weights` is not None, a str or a path.
    """
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            "`weights` must be None, 'imagenet', the name of the package's "
            f"trained classifiers ({', '.join(map(repr, NAMED_WEIGHTS))}) or a "
            f"path. Received: weights={weights!r}"
        )
    return os.fspath(weights) if weights is not None else None


def named_weights_file_name(weights, backbone, head):
    """The file name of a shipped classifier, e.g.
    `cifar_resnet20_lficam_cifar10.weights.h5`."""
    return f"{backbone}_{head}_{weights}.weights.h5"


def read_manifest(folder=None):
    """`{file name: entry}` of the shipped classifiers in `folder`.

    `folder` defaults to `PRETRAINED_DIR`; an absent manifest is `{}`.
    """
    path = pathlib.Path(PRETRAINED_DIR if folder is None else folder) / MANIFEST_NAME
    if not path.is_file():
        return {}
    return json.loads(path.read_text())


def named_weights_path(weights, backbone, num_classes, input_shape, head, options):
    """The shipped file to load for `weights`, or None for other values.

    Checks that the model asked for is the one the weights were trained
    for, and that the file is there.

    Args:
        weights: str or None, `build_model`'s `weights`.
        backbone: str or `keras.Model`, `build_model`'s `backbone`.
        num_classes: int.
        input_shape: `(height, width, 3)` or None.
        head: str.
        options: dict of the other `build_model` options (the keys of
            `DEFAULT_OPTIONS`).

    Returns:
        A `pathlib.Path` when `weights` is a name of `NAMED_WEIGHTS`, else
        None.

    Raises:
        ValueError: a model other than the one the weights were trained for.
        FileNotFoundError: the weights file is not in the package, with the
            command that produces it.
    """
    spec = NAMED_WEIGHTS.get(weights) if isinstance(weights, str) else None
    if spec is None:
        return None
    backbones = spec["backbones"]
    if not isinstance(backbone, str) or backbone not in backbones:
        shown = backbone if isinstance(backbone, str) else type(backbone).__name__
        raise ValueError(
            f"`backbone` must be {' or '.join(map(repr, backbones))} with "
            f"weights={weights!r}, the package's trained {spec['dataset']} "
            f"classifiers. Received: backbone={shown!r}. Pass "
            f"backbone={backbones[0]!r}, or weights=None to train another backbone."
        )
    if num_classes != spec["num_classes"]:
        raise ValueError(
            f"`num_classes` must be {spec['num_classes']} with weights={weights!r} "
            f"(the classes of {spec['dataset']}). Received: "
            f"num_classes={num_classes!r}. To fine-tune on other classes, build "
            "with weights=None and copy the backbone's weights."
        )
    if input_shape is not None and tuple(input_shape) != spec["input_shape"]:
        raise ValueError(
            f"`input_shape` must be None or {spec['input_shape']} with "
            f"weights={weights!r} (trained on {spec['input_shape'][0]}x"
            f"{spec['input_shape'][1]} images). Received: "
            f"input_shape={tuple(input_shape)}. Leave input_shape=None and "
            "resize the images."
        )
    changed = {k: v for k, v in options.items() if v != DEFAULT_OPTIONS[k]}
    if changed:
        shown = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        raise ValueError(
            f"`{'`, `'.join(changed)}` must keep the default with "
            f"weights={weights!r}, the weights of a model built with the default "
            f"options. Received: {shown}. Drop these options, or pass "
            "weights=None."
        )
    name = named_weights_file_name(weights, backbone, head)
    path = pathlib.Path(PRETRAINED_DIR) / name
    if not path.is_file():
        raise FileNotFoundError(
            f"The weights file {name!r} is not in this copy of lficam_tf "
            f"(looked for {str(path)!r}). weights={weights!r} needs the "
            f"trained {spec['dataset']} {backbone} with head={head!r}: produce it "
            f"in a source checkout with the study of experiments/README.md "
            f"(its last step, `{spec['command']}`, copies it there), or pass "
            "weights=None to train from scratch."
        )
    return path


def load_classifier_weights(model, path):
    """Load a whole classifier's weights file (`named_weights_path`)."""
    try:
        model.load_weights(path)
    except (ValueError, KeyError) as error:
        raise weights_mismatch_error(str(path), model.name, error) from error
    return model
