"""`reshape_transform`: the CAM methods on a small vision transformer built
here, whose explained layer outputs tokens (batch, 1 + h*w, C); each map
against its formula in numpy on the class-token-free grid, to 1e-5."""

import keras
import numpy as np
import pytest
from explain import numpy_formulas as ref
from keras import ops

from lficam_tf.explain import CAM_METHODS, explain, vit_reshape_transform

SIZE, PATCH, DIM, CLASSES = 16, 4, 8, 3
GRID = SIZE // PATCH
IMAGES = np.random.default_rng(3).uniform(-1, 1, (3, SIZE, SIZE, 3)).astype("float32")
TARGET = np.array([1, 0, 2], "int32")


class ClassToken(keras.layers.Layer):
    """Prepends a learned class token: (B, N, C) -> (B, 1 + N, C)."""

    def build(self, input_shape):
        self.token = self.add_weight(
            shape=(1, 1, input_shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=0.5, seed=1),
            name="token",
        )

    def call(self, x):
        token = ops.broadcast_to(self.token, (ops.shape(x)[0], 1, x.shape[-1]))
        return ops.concatenate([ops.cast(token, x.dtype), x], axis=1)


def _block(x, name):
    h = keras.layers.LayerNormalization(name=f"{name}_norm1")(x)
    h = keras.layers.MultiHeadAttention(2, DIM // 2, name=f"{name}_attention")(h, h)
    x = keras.layers.Add(name=f"{name}_add1")([x, h])
    h = keras.layers.LayerNormalization(name=f"{name}_norm2")(x)
    h = keras.layers.Dense(2 * DIM, activation="gelu", name=f"{name}_mlp1")(h)
    h = keras.layers.Dense(DIM, name=f"{name}_mlp2")(h)
    return keras.layers.Add(name=name)([x, h])


@pytest.fixture(scope="module")
def vit():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(DIM, PATCH, strides=PATCH, name="patches")(inputs)
    x = keras.layers.Reshape((GRID * GRID, DIM))(x)
    x = ClassToken(name="class_token")(x)
    x = _block(x, "block1")
    x = _block(x, "block2")
    x = keras.layers.LayerNormalization(name="norm")(x)
    # Pooling every token (not only the class token) gives block1's patch
    # tokens a direct gradient, so that the maps are far from zero.
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = keras.layers.Dense(CLASSES, name="head")(x)
    return keras.Model(inputs, outputs, name="tiny_vit")


FORMULAS = ref.FORMULAS


@pytest.mark.parametrize("method", sorted(FORMULAS))
def test_token_maps_equal_the_formula_on_the_grid(vit, method):
    a, g, _ = ref.probe(vit, "block1", IMAGES, TARGET, transform=ref.vit_grid)
    assert a.shape == (3, GRID, GRID, DIM)
    expected = FORMULAS[method](a, g)
    cam = CAM_METHODS[method](vit, layer="block1", reshape_transform="vit")
    (maps,), _, _ = cam.low_resolution_maps(IMAGES, TARGET)
    assert expected.max() > 0.01  # not a trivially empty map
    np.testing.assert_allclose(maps.numpy(), expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("method", ["gradcam++", "scorecam", "layercam"])
def test_every_map_method_explains_the_vit(vit, method):
    result = explain(
        vit, IMAGES, method=method, layer="block1", reshape_transform="vit"
    )
    assert result.maps.shape == (3, SIZE, SIZE)
    assert np.isfinite(result.maps).all() and result.maps.max() == 1.0


def test_a_callable_transform_is_used_as_given(vit):
    def transform(tokens):
        return ops.reshape(tokens[:, 1:], (-1, GRID, GRID, DIM))

    named = explain(
        vit, IMAGES, method="hirescam", layer="block1", reshape_transform="vit"
    )
    given = explain(
        vit, IMAGES, method="hirescam", layer="block1", reshape_transform=transform
    )
    np.testing.assert_array_equal(named.maps, given.maps)

    # Keeping the class token (a wrong grid) changes the map: the token is dropped.
    def shifted(tokens):
        return ops.reshape(tokens[:, :-1], (-1, GRID, GRID, DIM))

    wrong = explain(
        vit, IMAGES, method="hirescam", layer="block1", reshape_transform=shifted
    )
    assert np.abs(wrong.maps - named.maps).max() > 1e-2


def test_token_layers_need_a_transform_and_a_square_grid(vit):
    with pytest.raises(
        ValueError, match=r"outputs tokens \(None, 17, 8\).*reshape_transform='vit'"
    ):
        explain(vit, IMAGES, method="gradcam", layer="block1")
    with pytest.raises(ValueError, match="16 tokens minus 1 is not a square"):
        vit_reshape_transform(np.zeros((1, 16, 4), "float32"))
