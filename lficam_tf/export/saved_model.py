"""`export`: a classifier to TF Serving's layout, `<export_dir>/<version>/`."""

import os
import pathlib
import shutil
import uuid

import keras

from lficam_tf.api_export import lficam_export
from lficam_tf.checks import check_int
from lficam_tf.export.signatures import ServingFunctions
from lficam_tf.models.outputs import ATTENTION, LOGITS


def check_classifier(model):
    """The model's `(height, width)` and number of classes, or a clear error."""
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a keras.Model from lficam_tf.build_model. "
            f"Received: model={model!r} of type {type(model).__name__}"
        )
    try:
        outputs = model.output
    except (AttributeError, ValueError):  # Keras: "has never been called"
        raise ValueError(
            f"`model` must be a keras.Model from lficam_tf.build_model, which "
            f"returns a dict with {LOGITS!r} (and {ATTENTION!r}). Received: a "
            f"{type(model).__name__} that has never been called, so it has "
            "neither inputs nor outputs to export."
        ) from None
    if not isinstance(outputs, dict) or LOGITS not in outputs:
        raise ValueError(
            f"`model` must return a dict with {LOGITS!r} (and {ATTENTION!r} for "
            "LFI-CAM and ABN), as the classifiers of lficam_tf.build_model do. "
            f"Received: model outputs {outputs!r}"
        )
    shapes = [tuple(x.shape) for x in model.inputs]
    if (
        len(shapes) != 1
        or len(shapes[0]) != 4
        or shapes[0][3] != 3
        or None in shapes[0][1:3]
    ):
        raise ValueError(
            "`model` must take one batch of RGB images of a fixed size, "
            "(batch_size, height, width, 3). Received: model inputs "
            f"{shapes}"
        )
    attention = outputs.get(ATTENTION)
    if attention is not None and (
        len(attention.shape) != 4 or attention.shape[-1] != 1
    ):
        raise ValueError(
            f"`model`'s {ATTENTION!r} output must be a map of shape "
            f"(batch_size, h, w, 1). Received: shape {tuple(attention.shape)}"
        )
    return shapes[0][1:3], outputs[LOGITS].shape[-1]


def check_top_k(top_k, num_classes):
    """`top_k` capped at the number of classes, or a clear error."""
    return min(check_int(top_k, "top_k", minimum=1), num_classes)


def _check_class_names(class_names, num_classes):
    if class_names is None:
        return None
    if isinstance(class_names, str) or not all(
        isinstance(name, str) for name in class_names
    ):
        raise TypeError(
            "`class_names` must be a list of str, one per class. "
            f"Received: class_names={class_names!r}"
        )
    class_names = list(class_names)
    if len(class_names) != num_classes:
        raise ValueError(
            f"`class_names` must name each of the model's {num_classes} classes. "
            f"Received: {len(class_names)} names, class_names={class_names!r}"
        )
    return class_names


def _versions(export_dir):
    if not export_dir.is_dir():
        return []
    return sorted(
        int(child.name)
        for child in export_dir.iterdir()
        if child.name.isdigit() and child.is_dir()
    )


def _check_version(version, export_dir):
    if version is None:
        return (_versions(export_dir) or [0])[-1] + 1
    if isinstance(version, bool) or not isinstance(version, int):
        raise TypeError(
            "`version` must be an int (the version folder's number) or None. "
            f"Received: version={version!r}"
        )
    if version < 1:
        raise ValueError(
            "`version` must be a positive int (TF Serving serves the largest "
            "numbered folder), or None for one more than the largest existing "
            f"version. Received: version={version!r}"
        )
    return version


def write_archive(functions, path, endpoints=None, verbose=False):
    """Write the SavedModel of `functions` (a `ServingFunctions`) to `path`."""
    archive = keras.export.ExportArchive()
    archive.track(functions.model)
    for name, (fn, input_signature) in functions.endpoints().items():
        if endpoints is None or name in endpoints:
            archive.add_endpoint(name, fn, input_signature=input_signature)
    archive.write_out(str(path), verbose=verbose)


@lficam_export("lficam_tf.export.export")
def export(
    model,
    export_dir,
    version=1,
    top_k=5,
    class_names=None,
    center_crop=False,
    verbose=False,
):
    """Export a classifier as a SavedModel in TF Serving's layout.

    Writes `export_dir/<version>/saved_model.pb` and `variables/` with three
    signatures, each taking a batch of any size (at least one image):

    - `serving_default`: `images`, float32 RGB in 0..255 of the model's input
      size, `(batch_size, height, width, 3)` (the JSON numbers of a REST
      request);
    - `serving_uint8`: `images`, the same as uint8 (a compact gRPC request);
    - `serving_bytes`: `image_bytes`, string `(batch_size,)`: encoded JPEG,
      PNG, GIF, BMP or WebP files of any size (REST: `{"b64": ...}`; the
      formats of `lficam_tf.image_formats`, as training), decoded to RGB
      (grey repeated, alpha dropped) and brought to the model's input size
      as `lficam_tf.data.build_pipeline` does for evaluation (see
      `center_crop`).

    and the same outputs:

    - `probabilities` `(batch_size, num_classes)`, softmax of `logits`
      `(batch_size, num_classes)`;
    - `classes` (int32) and `scores` `(batch_size, top_k)`, the top-k classes
      and their probabilities, best first (ties: the lower class first);
    - `class_names` `(batch_size, top_k)`, if `class_names` is given;
    - `attention` `(batch_size, height, width, 1)`: the map up-sampled
      bilinearly (half-pixel centres) to the input size, in [0, 1], and
      `attention_features` `(batch_size, h, w, 1)`, the map as the model
      computes it. Baseline models have no map, so no `attention` outputs;
    - the model's other outputs under their own names: `importance`
      `(batch_size, K)` for LFI-CAM, `attention_logits` for ABN.

    A bad request (wrong rank, not 3 channels, another size, an empty batch,
    values outside 0..255, bytes that are not an image, files cut short,
    another dtype) fails with a message that names the problem (and the
    images' indices). See docs/serving.md.

    The version is written to a hidden temporary folder next to it and
    renamed when complete, so TF Serving never sees half a version.

    Args:
        model: a classifier from `lficam_tf.build_model` (LFI-CAM, ABN or
            baseline).
        export_dir: str or path. The model's base folder (TF Serving's
            `--model_base_path`). Created if absent.
        version: int or None. The version folder's number; an existing
            version is never overwritten. None takes one more than the
            largest existing version. Defaults to `1`.
        top_k: int. How many classes `classes` and `scores` hold, capped
            at the number of classes. Defaults to `5`.
        class_names: list of str or None. Names of the classes, in order.
            Defaults to `None` (no `class_names` output).
        center_crop: bool. `serving_bytes` resizes images to the input
            size (`False`, aspect ratio not kept: the evaluation transform of
            `build_pipeline(augmentation=None or "cifar")`) or resizes the
            shorter side to 256/224 of it and cuts the central crop (`True`:
            `augmentation="imagenet"`). Defaults to `False`.
        verbose: bool. Print the signatures. Defaults to `False`.

    Returns:
        The version folder written, a `pathlib.Path`.

    Example:

    >>> import tempfile, numpy as np, tensorflow as tf, lficam_tf
    >>> from lficam_tf.export import export
    >>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
    >>> path = export(model, tempfile.mkdtemp(), version=1, top_k=3)
    >>> path.name
    '1'
    >>> serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    >>> out = serve(images=tf.zeros((2, 32, 32, 3)))
    >>> tuple(out["classes"].shape), tuple(out["attention"].shape)
    ((2, 3), (2, 32, 32, 1))
    """
    _, num_classes = check_classifier(model)
    top_k = check_top_k(top_k, num_classes)
    class_names = _check_class_names(class_names, num_classes)
    if not isinstance(export_dir, (str, os.PathLike)):
        raise TypeError(
            "`export_dir` must be a str or path of a local folder. "
            f"Received: export_dir={export_dir!r}"
        )
    export_dir = pathlib.Path(export_dir)
    version = _check_version(version, export_dir)
    final = export_dir / str(version)
    if final.exists():
        raise FileExistsError(
            f"Version {version} exists already: {final}. Exported versions are "
            "never overwritten; pass version=None for the next free version "
            f"(here {_check_version(None, export_dir)}) or delete the folder."
        )
    functions = ServingFunctions(
        model, top_k=top_k, class_names=class_names, center_crop=bool(center_crop)
    )
    export_dir.mkdir(parents=True, exist_ok=True)
    # Not a number, so TF Serving's poller ignores it until the rename.
    partial = export_dir / f".{version}.partial-{uuid.uuid4().hex[:8]}"
    partial.mkdir()
    try:
        write_archive(functions, partial, verbose=verbose)
        if final.exists():  # Written by someone else meanwhile.
            raise FileExistsError(
                f"Version {version} appeared while exporting: {final}. It was "
                "left as it is; export again with version=None."
            )
        os.rename(partial, final)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return final
