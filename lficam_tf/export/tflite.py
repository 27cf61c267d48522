"""`to_tflite`: a classifier to a LiteRT (TFLite) file with the serving outputs."""

import os
import pathlib
import tempfile

import tensorflow as tf

from lficam_tf.api_export import lficam_export
from lficam_tf.export.saved_model import check_classifier, check_top_k, write_archive
from lficam_tf.export.signatures import ServingFunctions


@lficam_export("lficam_tf.export.to_tflite")
def to_tflite(model, path, top_k=5, select_tf_ops=False):
    """Convert a classifier to a LiteRT (TFLite) flatbuffer.

    The file has one signature, `serving_default`, with the inputs and
    outputs of the SavedModel's `serving_default` (see
    `lficam_tf.export.export`): `images`, float32 RGB in 0..255 of shape
    `(batch_size, height, width, 3)` (the batch size can be changed with
    the interpreter's `resize_tensor_input`; the signature runner does it
    for you), and `logits`, `probabilities`, `classes`, `scores`,
    `attention`, `attention_features` and the model's other outputs. The
    request checks of the SavedModel are left out (TFLite has no Assert
    op); a bad input shape fails in the interpreter instead.

    The conversion goes through a SavedModel written by
    `keras.export.ExportArchive` and `tf.lite.TFLiteConverter`, as Keras'
    own `model.export(format="litert")` does, but exports the post-processed
    outputs rather than the raw model. Only TFLite's built-in operators are
    used unless `select_tf_ops=True`.

    Args:
        model: a classifier from `lficam_tf.build_model`.
        path: str or path of the `.tflite` file to write. An existing file
            is replaced.
        top_k: int. How many classes `classes` and `scores` hold, capped
            at the number of classes. Defaults to `5`.
        select_tf_ops: bool. Allow TensorFlow operators that TFLite lacks
            (the interpreter then needs the Flex delegate, which
            `tf.lite.Interpreter` has but most mobile runtimes do not).
            Defaults to `False`.

    Returns:
        The path written, a `pathlib.Path`.

    Example:

    >>> import tempfile, numpy as np, tensorflow as tf, lficam_tf
    >>> from lficam_tf.export import to_tflite
    >>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
    >>> path = to_tflite(model, tempfile.mkdtemp() + "/model.tflite", top_k=3)
    >>> runner = tf.lite.Interpreter(str(path)).get_signature_runner()
    >>> out = runner(images=np.zeros((2, 32, 32, 3), "float32"))
    >>> out["classes"].shape, out["attention"].shape
    ((2, 3), (2, 32, 32, 1))
    """
    _, num_classes = check_classifier(model)
    top_k = check_top_k(top_k, num_classes)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"`path` must be a str or path of a file. Received: path={path!r}"
        )
    path = pathlib.Path(path)
    if path.suffix != ".tflite":
        raise ValueError(
            f"`path` must end with '.tflite'. Received: path={str(path)!r}"
        )
    functions = ServingFunctions(model, top_k=top_k, checks=False)
    with tempfile.TemporaryDirectory() as saved_model:
        write_archive(functions, saved_model, endpoints=("serving_default",))
        converter = tf.lite.TFLiteConverter.from_saved_model(
            saved_model, signature_keys=["serving_default"]
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if select_tf_ops:
            converter.target_spec.supported_ops.append(tf.lite.OpsSet.SELECT_TF_OPS)
        flatbuffer = converter.convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(flatbuffer)
    return path
