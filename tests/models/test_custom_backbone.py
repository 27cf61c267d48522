"""A user's own keras.Model as the backbone, nested models included."""

import keras
import numpy as np
import pytest

import lficam_tf
from lficam_tf import graph


def small_cnn(name="user_cnn"):
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(
        8, 3, strides=2, padding="same", activation="relu", name="conv_a"
    )(x)
    x = keras.layers.Conv2D(
        16, 3, strides=2, padding="same", activation="relu", name="conv_b"
    )(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(4)(x), name=name)


def test_user_model_with_named_feature_layer():
    user = small_cnn()
    model = lficam_tf.build_model(user, num_classes=5, feature_layer="conv_a")
    out = model(np.random.uniform(0, 255, (2, 32, 32, 3)).astype(np.float32))
    assert out["attention"].shape == (2, 16, 16, 1)
    assert out["importance"].shape == (2, 8)
    assert model.preprocessor is None  # the user's model does its own
    # The backbone shares the user's weights.
    assert model.backbone.get_layer("conv_a") is user.get_layer("conv_a")


def test_default_feature_layer_is_the_last_4d_output():
    model = lficam_tf.build_model(small_cnn(), num_classes=3)
    assert model(np.zeros((1, 32, 32, 3)))["attention"].shape == (1, 8, 8, 1)


def test_nested_keras_application_inside_a_functional_and_a_sequential_model():
    base = keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(64, 64, 3)
    )
    inputs = keras.Input((64, 64, 3))
    x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(base(x))
    functional = keras.Model(inputs, keras.layers.Dense(3)(x))
    images = np.random.uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    for layer in ("block_13_expand_relu", f"{base.name}/block_13_expand_relu"):
        model = lficam_tf.build_model(functional, 3, feature_layer=layer)
        assert model(images)["attention"].shape == (2, 4, 4, 1)
    # The extracted features equal the nested layer's output on preprocessed input.
    features = graph.feature_model(functional, "block_13_expand_relu")(images)
    reference = keras.Model(base.input, base.get_layer("block_13_expand_relu").output)
    np.testing.assert_allclose(features, reference(images / 127.5 - 1), atol=1e-4)

    sequential = keras.Sequential(
        [
            keras.Input((64, 64, 3)),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ]
    )
    model = lficam_tf.build_model(sequential, 3)
    assert model(images)["importance"].shape == (2, 1280)
    features, output = graph.feature_model(
        sequential, graph.last_feature_layer(sequential), include_output=True
    )(images)
    np.testing.assert_allclose(output, sequential(images), atol=1e-5)


def test_user_model_errors():
    user = small_cnn()
    with pytest.raises(
        ValueError, match=r"has no layer 'conv_z'.*\['conv_b', 'conv_a'"
    ):
        lficam_tf.build_model(user, 3, feature_layer="conv_z")
    with pytest.raises(
        ValueError, match=r"must output feature maps of shape \(batch, h, w, channels\)"
    ):
        lficam_tf.build_model(user, 3, feature_layer="dense")
    with pytest.raises(
        ValueError, match="head='abn' needs a backbone whose last stage"
    ):
        lficam_tf.build_model(user, 3, head="abn")
    with pytest.raises(ValueError, match="weights='imagenet' is for registered"):
        lficam_tf.build_model(user, 3, weights="imagenet")
    with pytest.raises(
        ValueError,
        match=r"differs from the input shape of the given model, \(32, 32, 3\)",
    ):
        lficam_tf.build_model(user, 3, input_shape=(64, 64, 3))
    tiny = keras.Sequential(
        [keras.Input((4, 4, 3)), keras.layers.Conv2D(2, 3, strides=4, padding="same")]
    )
    with pytest.raises(ValueError, match="gives a 1x1 feature map"):
        lficam_tf.build_model(tiny, 3)
    unbuilt = keras.Sequential([keras.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="is not built"):
        lficam_tf.build_model(unbuilt, 3)

    class Subclassed(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(TypeError, match="subclassed model has no graph"):
        lficam_tf.build_model(Subclassed(), 3)
