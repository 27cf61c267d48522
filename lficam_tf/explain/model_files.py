"""Models to explain, named by a path or a shipped classifier, and their classes.

`load_model` reads what `lficam-explain`'s MODEL names: a `.keras` file
(every method), a SavedModel folder (the model's own map only) or one of the
package's trained classifiers, `WEIGHTS:BACKBONE[:HEAD]`.
`model_class_names` finds a model's class names: a list or file given, else
those the model stores. The module imports TensorFlow only when a model is
loaded, so that `lficam-explain --help` stays instant.
"""

import json
import os
import pathlib

from lficam_tf.api_export import lficam_export


def parse_named_model(text):
    """`(weights, backbone, head)` of `WEIGHTS:BACKBONE[:HEAD]`, or None.

    None when `text` names no weights of `NAMED_WEIGHTS` (or is an existing
    path), so that files and folders are read as before.

    >>> parse_named_model("cifar10:cifar_resnet20")
    ('cifar10', 'cifar_resnet20', 'lficam')
    >>> parse_named_model("runs/shapes-1/model.keras") is None
    True
    """
    from lficam_tf.presets import NAMED_WEIGHTS

    parts = str(text).split(":")
    if parts[0] not in NAMED_WEIGHTS or pathlib.Path(text).exists():
        return None
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(
            f"`MODEL` must be WEIGHTS:BACKBONE[:HEAD] to load the package's "
            f"trained classifiers, e.g. '{parts[0]}:cifar_resnet20:lficam'. "
            f"Received: MODEL={text!r}"
        )
    return parts[0], parts[1], parts[2] if len(parts) == 3 else "lficam"


@lficam_export("lficam_tf.explain.load_model")
def load_model(path):
    """A model to explain, from a path or the name of a shipped classifier.

    Args:
        path: str or path. A `.keras` (or `.h5`) file, loaded as a Keras
            model; a SavedModel folder (with `saved_model.pb`, e.g. a version
            folder of `lficam_tf.export.export`), loaded with
            `tf.saved_model.load`; or `WEIGHTS:BACKBONE[:HEAD]`, what
            `lficam_tf.build_model(BACKBONE, head=HEAD, weights=WEIGHTS)`
            builds (HEAD defaults to `"lficam"`).

    Returns:
        A `keras.Model`, or the loaded SavedModel.

    Raises:
        ValueError: `path` is none of these (an export's base folder is
            told to pass a version folder), or a `.keras` file is damaged.
    """
    import tensorflow as tf

    import lficam_tf.models  # noqa: F401  Registers the package's classes.
    from lficam_tf.models.serialization import load_keras_file

    named = parse_named_model(path)
    if named is not None:
        weights, backbone, head = named
        return lficam_tf.models.build_model(backbone, head=head, weights=weights)
    path = pathlib.Path(path)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return tf.saved_model.load(str(path))
    if path.is_file() and path.suffix in (".keras", ".h5"):
        return load_keras_file(path, "MODEL")  # Says when the file is damaged.
    hint = ""
    if path.is_dir() and any(child.name.isdigit() for child in path.iterdir()):
        hint = " This looks like an export base folder: pass a version folder."
    raise ValueError(
        "`MODEL` must be a .keras file, a SavedModel folder (with "
        "saved_model.pb) or a shipped classifier such as "
        f"'cifar10:cifar_resnet20:lficam'. Received: MODEL={str(path)!r}.{hint}"
    )


def read_class_names(path, num_classes):
    """Class names from a JSON list or a text file with one name per line."""
    text = pathlib.Path(path).read_text()
    if pathlib.Path(path).suffix == ".json":
        names = json.loads(text)
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not isinstance(names, list) or len(names) != num_classes:
        count = len(names) if isinstance(names, list) else type(names).__name__
        raise ValueError(
            f"`--class-names` must name each of the model's {num_classes} "
            f"classes, in order. Received: {count} names in {str(path)!r}"
        )
    return [str(name) for name in names]


def _stored_class_names(model, source=None):
    named = parse_named_model(source) if source is not None else None
    if named is not None:
        from lficam_tf.presets import NAMED_WEIGHTS

        return list(NAMED_WEIGHTS[named[0]]["class_names"])
    names = getattr(model, "class_names", None)
    if names is None or isinstance(names, dict):
        return None
    if hasattr(names, "numpy"):
        names = [n.decode("utf-8") for n in names.numpy().ravel()]
    return [str(n) for n in names]


@lficam_export("lficam_tf.explain.model_class_names")
def model_class_names(model, num_classes, names=None, source=None):
    """The class names to report for `model`, or None.

    Args:
        model: the model, as `load_model` returns it.
        num_classes: int. The model's number of classes.
        names: None, a list of str, or the path of a JSON list or a text
            file with one name per line. Must name every class, in order.
        source: what `model` was loaded from (`load_model`'s `path`): a
            shipped classifier's name gives its class names.

    Returns:
        list of str: `names` if given, else the shipped classifier's, else
        the model's `class_names` attribute (a SavedModel's `class_names`
        output included), else None.
    """
    if names is None:
        return _stored_class_names(model, source)
    if isinstance(names, (str, os.PathLike)):
        return read_class_names(names, num_classes)
    names = [str(name) for name in names]
    if len(names) != num_classes:
        raise ValueError(
            f"`class_names` must name each of the model's {num_classes} "
            f"classes, in order. Received: {len(names)} names"
        )
    return names
