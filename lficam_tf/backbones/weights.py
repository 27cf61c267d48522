"""Loading backbone weights, with errors that say what to do.

Also the package's own trained classifiers, loaded by name as
`keras.applications` loads `"imagenet"`: `build_model("cifar_resnet20",
num_classes=10, head="lficam", weights="cifar10")` builds the classifier and
loads the whole of it (backbone, head, classifier) from a weights file
shipped in `lficam_tf/weights/` (`NAMED_WEIGHTS`).
"""

import json
import os
import pathlib

from lficam_tf.checks import FIN_DEFAULTS, did_you_mean

#: Folder of the package's trained classifiers (package data, see setup.py).
PRETRAINED_DIR = pathlib.Path(__file__).resolve().parents[1] / "weights"

#: The manifest in `PRETRAINED_DIR`: for each shipped file its dataset,
#: backbone, head, test accuracy and the run it comes from.
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

#: Named weights of whole classifiers: what each name was trained for. A
#: model takes them only when built exactly as they were trained (one of
#: `backbones`, `num_classes`, `input_shape`, every other option default).
NAMED_WEIGHTS = {
    "cifar10": {
        "dataset": "CIFAR-10",
        "backbones": ("cifar_resnet20",),
        "heads": ("lficam", "abn", "baseline"),
        "num_classes": 10,
        "input_shape": (32, 32, 3),
        "class_names": CIFAR10_CLASS_NAMES,
        "command": "python experiments/ship_checkpoints.py",
    },
}

#: `build_model` options that must keep their defaults with named weights.
_DEFAULT_OPTIONS = {
    "feature_layer": None,
    "preprocessing": "auto",
    **FIN_DEFAULTS,
    "stem_stride": None,
}


def check_weights_file(weights, backbone_name):
    """Raise `FileNotFoundError` unless `weights` is an existing file."""
    if not os.path.isfile(weights):
        # A name close to a shipped classifier's ('CIFAR10', 'cifar100') is
        # more likely a misspelt name than a missing file.
        hint = did_you_mean(weights, list(NAMED_WEIGHTS) + ["imagenet"])
        raise FileNotFoundError(
            f"Weights file not found: {weights!r} (backbone {backbone_name!r}).{hint} "
            "`weights` must be None (random initialisation), 'imagenet' where "
            "the backbone has ImageNet weights, the name of the package's "
            f"trained classifiers ({_named_weights_text()}), or the path of an "
            "existing weights file saved with `backbone.save_weights(path)` (a "
            "'.weights.h5' file)."
        )


def _named_weights_text():
    """E.g. "'cifar10': CIFAR-10, cifar_resnet20"."""
    return "; ".join(
        f"{name!r}: {spec['dataset']}, {'/'.join(spec['backbones'])}"
        for name, spec in NAMED_WEIGHTS.items()
    )


def mismatch_error(weights, backbone_name, error):
    # Keras' own message goes on to print whole variables: keep its first line.
    reason = str(error).strip().split("\n")[0][:300]
    return ValueError(
        f"The weights file {weights!r} does not match backbone "
        f"{backbone_name!r} ({reason}). Load a file saved from the same "
        "architecture (same backbone, depth and options such as stem_stride)."
    )


def load_weights(model, weights, backbone_name):
    """Load `weights` (None or a path) into one of our own backbones."""
    if weights is None:
        return model
    if weights == "imagenet":
        raise ValueError(
            f"Backbone {backbone_name!r} has no ImageNet weights: it is one of "
            "this package's own backbones. Received: weights='imagenet'. Pass "
            "weights=None to train from scratch or the path of a weights file."
        )
    check_weights_file(weights, backbone_name)
    try:
        model.load_weights(weights)
    except (ValueError, KeyError) as error:
        raise mismatch_error(weights, backbone_name, error) from error
    return model


def copy_weights_by_name(source, targets, skip=()):
    """Copy the weights of `source`'s layers into same-named layers of `targets`.

    Layers named in `skip` (which `source` does not have) keep their weights.
    """
    for target in targets:
        for layer in target.layers:
            if layer.weights and layer.name not in skip:
                layer.set_weights(source.get_layer(layer.name).get_weights())


def validate_weights_argument(weights):
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
        options: dict of the other `build_model` options (`_DEFAULT_OPTIONS`).

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
    changed = {k: v for k, v in options.items() if v != _DEFAULT_OPTIONS[k]}
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
        raise mismatch_error(str(path), model.name, error) from error
    return model
