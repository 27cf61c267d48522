"""The LiteRT (TFLite) file gives the SavedModel's outputs, built-in ops only."""

import warnings

import pytest

from lficam_tf.export import to_tflite


def interpreter(path):
    """LiteRT's interpreter if installed, else TensorFlow's (deprecated but
    still in TF 2.21)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite's deprecation notice.
        return Interpreter(model_path=str(path))


@pytest.fixture(scope="module")
def tflite_file(models, tmp_path_factory):
    return to_tflite(
        models["lficam"], tmp_path_factory.mktemp("tflite") / "m.tflite", top_k=3
    )


@pytest.mark.slow
def test_tflite_outputs_match(tflite_file, requests, expected, assert_match):
    lite = interpreter(tflite_file)
    assert list(lite.get_signature_list()) == ["serving_default"]
    runner = lite.get_signature_runner("serving_default")
    want = {
        k: v
        for k, v in expected["lficam"]["serving_default"].items()
        if k != "class_names"
    }
    # XNNPACK's float kernels differ from TensorFlow's in the last bits.
    assert_match(runner(images=requests["float"]), want, atol=1e-4, rtol=1e-5)
    # Another batch size: the runner resizes the input.
    one = runner(images=requests["float"][1:2])
    assert_match(one, {k: v[1:2] for k, v in want.items()}, atol=1e-4, rtol=1e-5)


@pytest.mark.slow
def test_tflite_uses_builtin_ops_only(tflite_file):
    lite = interpreter(tflite_file)
    lite.allocate_tensors()
    ops = {op["op_name"] for op in lite._get_ops_details()}
    assert not any(name.startswith("Flex") or name == "CUSTOM" for name in ops), ops
    assert {"CONV_2D", "RESIZE_BILINEAR", "TOPK_V2", "SOFTMAX"} <= ops


def test_tflite_path_errors(models, tmp_path):
    with pytest.raises(
        ValueError, match=r"`path` must end with '.tflite'. Received: path='.*m.lite'"
    ):
        to_tflite(models["baseline"], tmp_path / "m.lite")
    with pytest.raises(
        TypeError, match=r"`path` must be a str or path of a file. Received: path=None"
    ):
        to_tflite(models["baseline"], None)
