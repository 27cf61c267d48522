"""ABN's attention head, the channel flip, and the export registry."""

import keras
import numpy as np
import pytest
from layer_test_utils import run_layer_test

import lficam_tf
from lficam_tf.api_export import EXPORTED, lficam_export
from lficam_tf.layers import ABNAttentionHead, ReverseChannels


def test_abn_head_matches_numpy_in_inference_mode():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 3, 4)).astype(np.float32)
    head = ABNAttentionHead(num_classes=2)
    head(x)
    params = {}
    for layer in (head.input_norm, head.class_norm, head.map_norm):
        n = layer.gamma.shape[0]
        values = [
            rng.uniform(0.5, 1.5, n),
            rng.normal(0, 0.1, n),
            rng.normal(0, 0.1, n),
            rng.uniform(0.5, 2, n),
        ]
        layer.set_weights([v.astype(np.float32) for v in values])
        params[layer.name] = values
    for conv in (head.class_conv, head.logits_conv, head.map_conv):
        conv.kernel.assign(rng.normal(0, 0.5, conv.kernel.shape).astype(np.float32))

    def bn(v, name):
        g, b, m, var = params[name]
        return (v - m) / np.sqrt(var + 1e-5) * g + b

    k1 = head.class_conv.kernel.numpy()[0, 0]  # (4, 2)
    k2 = head.logits_conv.kernel.numpy()[0, 0]  # (2, 2)
    k3 = head.map_conv.kernel.numpy()  # (3, 3, 2, 1)
    y = np.maximum(bn(bn(x, "input_bn") @ k1, "class_bn"), 0)
    expected_logits = (y @ k2).mean(axis=(1, 2))
    padded = np.pad(y, ((0, 0), (1, 1), (1, 1), (0, 0)))
    conv = np.zeros((2, 3, 3, 1))
    for i in range(3):
        for j in range(3):
            conv[:, i, j, 0] = np.einsum(
                "bxyc,xyc->b", padded[:, i : i + 3, j : j + 3], k3[..., 0]
            )
    expected_map = 1 / (1 + np.exp(-bn(conv, "map_bn")))

    logits, attention = head(x, training=False)
    np.testing.assert_allclose(logits, expected_logits, atol=1e-5)
    np.testing.assert_allclose(attention, expected_map, atol=1e-5)


def test_abn_head_contract_and_errors(tmp_path):
    x = np.random.default_rng(1).normal(size=(2, 4, 4, 6)).astype(np.float32)
    run_layer_test(lambda: ABNAttentionHead(3), [x], tmp_path, [(2, 3), (2, 4, 4, 1)])
    with pytest.raises(ValueError, match="`num_classes` must be at least 1"):
        ABNAttentionHead(0)
    with pytest.raises(TypeError, match="`num_classes` must be an int"):
        ABNAttentionHead("10")


def test_reverse_channels(tmp_path):
    x = np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3)
    out = run_layer_test(ReverseChannels, [x], tmp_path, [(2, 2, 2, 3)])
    np.testing.assert_array_equal(out[0], x[..., ::-1])


def test_every_exported_layer_round_trips_through_keras_serialization():
    layers = {
        path: symbol
        for path, symbol in EXPORTED.items()
        if isinstance(symbol, type)
        and issubclass(symbol, keras.layers.Layer)
        and not issubclass(symbol, keras.Model)
    }
    assert set(layers) >= {
        "lficam_tf.layers.FeatureImportanceNetwork",
        "lficam_tf.layers.LFIAttentionMap",
        "lficam_tf.layers.ResidualAttention",
        "lficam_tf.layers.ABNAttentionHead",
        "lficam_tf.layers.ReverseChannels",
    }
    for path, cls in layers.items():
        # Public where the path says.
        module_path, name = path.rsplit(".", 1)
        module = lficam_tf
        for part in module_path.split(".")[1:]:
            module = getattr(module, part)
        assert getattr(module, name) is cls, path
        # Registered: serialize -> deserialize without custom_objects.
        args = {"num_classes": 3} if cls is ABNAttentionHead else {}
        layer = cls(**args, name="probe")
        config = keras.saving.serialize_keras_object(layer)
        assert config["registered_name"] == f"lficam_tf>{name}"
        restored = keras.saving.deserialize_keras_object(config)
        assert type(restored) is cls and restored.get_config() == layer.get_config()


def test_export_decorator_rejects_foreign_paths_and_duplicates():
    with pytest.raises(ValueError, match="`path` must start with 'lficam_tf.'"):
        lficam_export("other.Thing")
    with pytest.raises(ValueError, match="Two symbols exported"):
        lficam_export("lficam_tf.layers.ResidualAttention")(type("Other", (), {}))
