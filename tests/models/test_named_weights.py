"""weights="cifar10": the package's trained classifiers, loaded by name.

The weights files come from the study (experiments/ship_checkpoints.py);
here a file saved by the test into a temporary package folder stands in for
them (`PRETRAINED_DIR` monkeypatched).
"""

import numpy as np
import pytest

import lficam_tf
from lficam_tf import presets


@pytest.fixture
def weights_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(presets, "PRETRAINED_DIR", tmp_path)
    return tmp_path


def _save(folder, head, seed=1):
    import keras

    keras.utils.set_random_seed(seed)
    model = lficam_tf.build_model("cifar_resnet20", num_classes=10, head=head)
    name = presets.named_weights_file_name("cifar10", "cifar_resnet20", head)
    model.save_weights(folder / name)
    return model


@pytest.mark.parametrize("head", ["lficam", "abn", "baseline"])
def test_loads_the_whole_classifier(weights_dir, head):
    saved = _save(weights_dir, head)
    images = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    loaded = lficam_tf.build_model(
        "cifar_resnet20", num_classes=10, head=head, weights="cifar10"
    )
    expected, got = saved(images), loaded(images)
    assert sorted(got) == sorted(expected)
    for key in expected:  # The head and classifier too, not only the backbone.
        np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(expected[key]))
    # Every variable came from the file (a fresh model differs).
    for a, b in zip(saved.weights, loaded.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_missing_file_names_it_and_the_command(weights_dir):
    with pytest.raises(FileNotFoundError) as error:
        lficam_tf.build_model("cifar_resnet20", 10, head="abn", weights="cifar10")
    message = str(error.value)
    assert "cifar_resnet20_abn_cifar10.weights.h5" in message
    assert str(weights_dir) in message
    assert "python experiments/ship_checkpoints.py" in message
    assert "weights=None" in message


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (
            {"backbone": "cifar_resnet32"},
            "`backbone` must be 'cifar_resnet20' with weights='cifar10', the "
            "package's trained CIFAR-10 classifiers. Received: "
            "backbone='cifar_resnet32'",
        ),
        (
            {"num_classes": 100},
            "`num_classes` must be 10 with weights='cifar10' (the classes of "
            "CIFAR-10). Received: num_classes=100",
        ),
        (
            {"input_shape": (64, 64, 3)},
            "`input_shape` must be None or (32, 32, 3) with weights='cifar10' "
            "(trained on 32x32 images). Received: input_shape=(64, 64, 3)",
        ),
        (
            {"fin_relu": "every"},
            "`fin_relu` must keep the default with weights='cifar10', the weights "
            "of a model built with the default options. Received: fin_relu='every'",
        ),
        (
            {"preprocessing": None},
            "`preprocessing` must keep the default with weights='cifar10'",
        ),
    ],
)
def test_other_models_are_refused(weights_dir, kwargs, expected):
    _save(weights_dir, "lficam")
    arguments = {"backbone": "cifar_resnet20", "num_classes": 10, **kwargs}
    with pytest.raises(ValueError) as error:
        lficam_tf.build_model(weights="cifar10", **arguments)
    assert expected in str(error.value)


def test_a_users_model_is_refused(weights_dir):
    import keras

    inputs = keras.Input((32, 32, 3))
    user = keras.Model(inputs, keras.layers.Conv2D(4, 3, strides=4)(inputs))
    with pytest.raises(ValueError, match="Received: backbone='Functional'"):
        lficam_tf.build_model(user, 10, weights="cifar10")


def test_input_shape_32_is_accepted(weights_dir):
    _save(weights_dir, "baseline")
    model = lficam_tf.build_model(
        "cifar_resnet20",
        10,
        head="baseline",
        weights="cifar10",
        input_shape=(32, 32, 3),
    )
    assert tuple(model.inputs[0].shape[1:]) == (32, 32, 3)


def test_wrong_type_names_the_choices():
    with pytest.raises(TypeError) as error:
        lficam_tf.build_model("cifar_resnet20", 10, weights=3)
    assert "'cifar10'" in str(error.value) and "Received: weights=3" in str(error.value)


def test_manifest_absent_is_empty(weights_dir):
    assert presets.read_manifest() == {}
