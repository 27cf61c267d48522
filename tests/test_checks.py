"""`lficam_tf.checks`: the package's one owner of its argument rules."""

import subprocess
import sys

import numpy as np
import pytest

from lficam_tf import checks


@pytest.mark.parametrize("value", [3, np.int64(3), np.uint8(3)])
def test_check_int_returns_a_python_int(value):
    result = checks.check_int(value, "steps", minimum=1, maximum=5)
    assert result == 3 and type(result) is int


@pytest.mark.parametrize(
    "value, kwargs, error, match",
    [
        # Wrong type: TypeError, whatever the value.
        (2.0, {}, TypeError, r"`steps` must be an int\. Received: steps=2\.0"),
        (True, {}, TypeError, r"`steps` must be an int\. Received: steps=True"),
        ("3", {}, TypeError, r"`steps` must be an int\. Received: steps='3'"),
        (None, {}, TypeError, r"`steps` must be an int\. Received: steps=None"),
        ("3", {"optional": True}, TypeError, r"`steps` must be an int or None"),
        # Right type, bad value: ValueError.
        (
            0,
            {"minimum": 1},
            ValueError,
            r"`steps` must be at least 1\. Received: steps=0",
        ),
        (
            9,
            {"maximum": 5},
            ValueError,
            r"`steps` must be at most 5\. Received: steps=9",
        ),
    ],
)
def test_check_int_type_then_value(value, kwargs, error, match):
    with pytest.raises(error, match=match):
        checks.check_int(value, "steps", **kwargs)


def test_check_int_optional_none():
    assert checks.check_int(None, "num_train", minimum=1, optional=True) is None


def test_every_module_uses_the_one_check_int():
    from lficam_tf.data import checks as data_checks
    from lficam_tf.metrics import _checks as metric_checks

    assert data_checks.check_int is checks.check_int
    assert metric_checks.check_int is checks.check_int
    assert metric_checks.check_number is checks.check_number


def test_importable_without_numpy_keras_or_tensorflow():
    # As `train_tf.py --help` imports it (a command line: no model code).
    code = (
        "import sys; sys.argv = ['train_tf.py']; import lficam_tf.checks; "
        "print(any(m in sys.modules for m in ('numpy', 'keras', 'tensorflow')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_one_class_index_rule_for_explain_and_metrics():
    from lficam_tf.explain import maps
    from lficam_tf.metrics import _checks as metric_checks

    assert metric_checks.check_class_index is checks.check_class_index
    # explain's None is -1 ("the prediction"), as int32 for its explainers.
    targets = maps.check_class_index(None, 3, 10)
    assert targets.dtype == np.int32 and targets.tolist() == [-1, -1, -1]
    assert maps.check_class_index(np.int64(4), 2, 10).tolist() == [4, 4]
    assert checks.check_class_index(None, 3, 10) is None
    for check in (maps.check_class_index, checks.check_class_index):
        with pytest.raises(ValueError, match=r"must be in \[0, 10\) for 10 classes"):
            check([1, 10], 2, 10)
        with pytest.raises(TypeError, match=r"`class_index` must be None, an int"):
            check(True, 2, 10)
        with pytest.raises(
            TypeError, match=r"Received: class_index=an array of dtype float"
        ):
            check([1.0, 2.0], 2, 10)
        with pytest.raises(ValueError, match=r"one entry per image, shape \(3,\)"):
            check([1, 2], 3, 10)


def test_one_image_size_rule_with_its_reason():
    assert checks.MIN_IMAGE_SIZE == checks.MIN_FEATURE_SIZE * checks.MIN_BACKBONE_STRIDE
    assert checks.check_image_size(8) == (8, 8)
    assert checks.check_image_size(np.int32(9)) == (9, 9)
    assert checks.check_image_size([12, 10]) == (12, 10)
    assert checks.check_image_size(None, optional=True) is None
    with pytest.raises(ValueError, match=r"at least 8x8: the finest backbones .*2x2"):
        checks.check_image_size((8, 7))
    with pytest.raises(TypeError, match=r"must be an int or a \(height, width\) pair"):
        checks.check_image_size("8")
    with pytest.raises(TypeError, match=r"must be None, an int or a \(height, width\)"):
        checks.check_image_size(8.0, optional=True)


def test_min_backbone_stride_is_the_finest_registered_backbone():
    import lficam_tf  # noqa: F401 (registers the backbones)
    from lficam_tf.backbones.registry import get_backbone_spec, list_backbones

    strides = [get_backbone_spec(name).stride for name in list_backbones()]
    assert min(strides) == checks.MIN_BACKBONE_STRIDE


def test_the_smallest_image_gives_the_smallest_feature_map():
    import lficam_tf

    size = checks.MIN_IMAGE_SIZE
    lficam_tf.build_model("cifar_resnet20", 3, input_shape=(size, size, 3))
    with pytest.raises(
        ValueError, match=r"gives a 1x1 feature map .* needs at least 2x2"
    ):
        lficam_tf.build_model("cifar_resnet20", 3, input_shape=(size - 4, size - 4, 3))


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_mixing_strength_must_be_finite(value):
    from lficam_tf.checks import check_mixing

    with pytest.raises(ValueError, match=r"`mixup` must be a finite number >= 0"):
        check_mixing(value, "mixup")
