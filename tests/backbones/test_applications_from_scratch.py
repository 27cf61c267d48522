"""keras.applications backbones trained from scratch: batch-norm momentum."""

import keras
import numpy as np

import lficam_tf


def _bn_momenta(model):
    return {
        round(layer.momentum, 6)
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.BatchNormalization)
    }


def test_from_scratch_batch_norms_average_fast_enough_to_evaluate(tmp_path):
    """Keras' 0.999 keeps the moving statistics at their start for thousands
    of steps; from scratch the backbone's batch norms take 0.9."""
    model = lficam_tf.build_model("mobilenetv2", 3, input_shape=(64, 64, 3))
    assert _bn_momenta(model.backbone) == {0.9}
    # One training step moves the moving mean a tenth of the way to the
    # batch mean (numpy), not a thousandth.
    bn = next(
        layer
        for layer in model.backbone.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    )
    probe = keras.Model(model.backbone.inputs, bn.input)
    images = np.random.default_rng(0).uniform(-1, 1, (8, 64, 64, 3)).astype("float32")
    before = bn.moving_mean.numpy()
    batch_mean = probe(images).numpy().mean(axis=(0, 1, 2))
    model.backbone(images, training=True)
    np.testing.assert_allclose(
        bn.moving_mean.numpy(), 0.9 * before + 0.1 * batch_mean, rtol=1e-4, atol=1e-5
    )
    # Saved and loaded, the model keeps it.
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert _bn_momenta(loaded.backbone) == {0.9}


def test_loaded_weights_keep_keras_momentum(tmp_path):
    spec = lficam_tf.get_backbone_spec("mobilenetv2")
    path = tmp_path / "mobilenetv2.weights.h5"
    keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(64, 64, 3)
    ).save_weights(path)
    backbone = spec.build(input_shape=(64, 64, 3), weights=str(path))
    assert _bn_momenta(backbone) == {0.999}
