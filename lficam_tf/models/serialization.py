"""Config helpers for models that hold other models (backbones, stages), and
`load_keras_file`, which says when a `.keras` file is damaged."""

import pathlib
import zipfile

import keras


def serialize_parts(model, names):
    """`{name: serialized model.<name>}`, with None kept as None."""
    return {
        name: None
        if getattr(model, name) is None
        else keras.saving.serialize_keras_object(getattr(model, name))
        for name in names
    }


def deserialize_parts(config, names):
    """A copy of `config` with the named parts deserialized."""
    config = dict(config)
    for name in names:
        if config.get(name) is not None:
            config[name] = keras.saving.deserialize_keras_object(config[name])
    return config


def load_keras_file(path, name="model"):
    """`keras.saving.load_model(path)`, with a clear error for a damaged file.

    Keras reports an empty, cut-short or non-zip `.keras` file as "File not
    found", which sends the user looking for a missing file: this says the
    file is there and damaged, and what to do.

    Args:
        path: str or path. A `.keras` (or legacy `.h5`) file.
        name: str. The argument's name, for the message (`"MODEL"` in the
            command lines).

    Raises:
        FileNotFoundError: there is no file at `path`.
        ValueError: the file is empty, not a zip archive, a damaged one, or
            a zip without a Keras model in it.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"`{name}` must be an existing .keras file. Received: "
            f"{name}={str(path)!r}, which does not exist."
        )
    if path.suffix == ".keras":
        problem = _keras_archive_problem(path)
        if problem is not None:
            raise ValueError(
                f"`{name}` must be a .keras file saved by model.save(). Received: "
                f"{name}={str(path)!r}, which is damaged: {problem}. Save the "
                "model again, or copy the file again in full."
            )
    return keras.saving.load_model(path)


def _keras_archive_problem(path):
    """What is wrong with the `.keras` file at `path`, or None."""
    size = path.stat().st_size
    if size == 0:
        return "it is empty (0 bytes)"
    if not zipfile.is_zipfile(path):
        return f"it is not a zip archive, as every .keras file is ({size:,} bytes)"
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        return f"its zip archive cannot be read ({error})"
    if broken is not None:
        return f"{broken} in its zip archive is corrupt"
    if "config.json" not in names:
        return "its zip archive holds no config.json, so it is not a Keras model"
    return None
