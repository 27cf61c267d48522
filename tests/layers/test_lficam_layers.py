"""LFI-CAM layers against the independent numpy implementation (METHOD.md 2)."""

import keras
import lficam_numpy as ref
import numpy as np
import pytest
import tensorflow as tf
from layer_test_utils import run_layer_test

from lficam_tf import ops as lfi_ops
from lficam_tf.layers import (
    FeatureImportanceNetwork,
    LFIAttentionMap,
    ResidualAttention,
)


def hand_made_features():
    """2 images, 3x3 maps, 4 channels with every edge case of step 3.

    Image 0: a regular channel, a constant non-zero channel, an all-zero
    channel, and a channel with negative values and an exact zero.
    Image 1: a ReLU-like channel, constant negative, a single spike, a ramp.
    """
    F = np.zeros((2, 3, 3, 4), np.float32)
    F[0, :, :, 0] = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    F[0, :, :, 1] = 2.5
    F[0, :, :, 2] = 0.0
    F[0, :, :, 3] = [[-2, 0, 1], [2, -1, 0.5], [3, 0, -2]]
    F[1, :, :, 0] = [[0, 0, 1], [0, 2, 0], [3, 0, 0]]
    F[1, :, :, 1] = -1.5
    F[1, :, :, 2] = [[0, 0, 0], [0, 9, 0], [0, 0, 0]]
    F[1, :, :, 3] = np.arange(9, dtype=np.float32).reshape(3, 3) / 4
    return F


def test_normalize_feature_maps_matches_numpy_and_edge_cases():
    F = hand_made_features()
    got = keras.ops.convert_to_numpy(lfi_ops.normalize_feature_maps(F))
    np.testing.assert_allclose(got, ref.normalize_feature_maps(F), atol=1e-6)
    # The rules themselves, spelled out on the hand-made values.
    assert np.all(got[0, :, :, 1] == 1.0)  # constant non-zero channel
    assert np.all(got[0, :, :, 2] == 0.0)  # all-zero channel
    assert np.all(got[1, :, :, 1] == 1.0)  # constant negative channel
    assert got[0, 0, 1, 3] == 0.0  # exact zero in a channel with negatives
    assert got[0, 0, 0, 3] == 0.0 and got[0, 2, 0, 3] == 1.0  # min and max
    np.testing.assert_allclose(got[0, 0, 2, 3], 3 / 5)  # (1 - -2) / (3 - -2)


def test_attention_map_matches_numpy_including_constant_maps():
    F = hand_made_features()
    weights = np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]], np.float32)
    got = keras.ops.convert_to_numpy(LFIAttentionMap()(F, weights))
    np.testing.assert_allclose(got, ref.attention_map(F, weights), atol=1e-6)
    assert got.shape == (2, 3, 3, 1)
    np.testing.assert_allclose(got.max(axis=(1, 2, 3)), 1.0)
    assert got.min() >= 0.0

    # A constant L (here all channels constant) is returned as is: A = L.
    constant = np.full((1, 3, 3, 2), 2.0, np.float32)
    weights = np.array([[0.25, 0.75]], np.float32)
    got = keras.ops.convert_to_numpy(LFIAttentionMap()(constant, weights))
    np.testing.assert_allclose(got, 2.0)
    # A map that the ReLU zeroes everywhere stays 0, not NaN.
    got = keras.ops.convert_to_numpy(LFIAttentionMap()(-constant, weights))
    np.testing.assert_array_equal(got, 0.0)


def test_residual_attention_is_one_plus_a_times_f():
    F = hand_made_features()
    A = np.random.default_rng(0).uniform(size=(2, 3, 3, 1)).astype(np.float32)
    got = keras.ops.convert_to_numpy(ResidualAttention()(F, A))
    np.testing.assert_allclose(got, ref.residual_attention(F, A), atol=1e-6)
    # With A = 0 the features pass unchanged.
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(ResidualAttention()(F, np.zeros_like(A))), F
    )
    with pytest.raises(ValueError, match="spatial size of `features`"):
        ResidualAttention()(F, np.zeros((2, 2, 2, 1), np.float32))


def test_grey_image_resize_matches_half_pixel_bilinear():
    rng = np.random.default_rng(1)
    images = rng.uniform(-2, 2, size=(2, 12, 10, 3)).astype(np.float32)
    for h, w in [(3, 5), (4, 4), (6, 5), (12, 10)]:
        got = keras.ops.convert_to_numpy(lfi_ops.grey_image_at(images, (h, w)))
        np.testing.assert_allclose(got, ref.grey_at(images, h, w), atol=1e-5)


def _set_random_fin_weights(fin, rng):
    kernels, bns = [], []
    for conv, norm in zip(fin.convs, fin.norms):
        kernel = rng.normal(0, 0.5, size=conv.kernel.shape).astype(np.float32)
        conv.kernel.assign(kernel)
        channels = kernel.shape[-1]
        gamma = rng.uniform(0.5, 1.5, channels).astype(np.float32)
        beta = rng.normal(0, 0.1, channels).astype(np.float32)
        mean = rng.normal(0, 0.1, channels).astype(np.float32)
        var = rng.uniform(0.5, 2.0, channels).astype(np.float32)
        norm.set_weights([gamma, beta, mean, var])
        kernels.append(kernel)
        bns.append((gamma, beta, mean, var))
    return kernels, bns


@pytest.mark.parametrize("implementation", ["conv", "matmul"])
@pytest.mark.parametrize("relu", ["paired", "every"])
def test_fin_matches_numpy(relu, implementation):
    F = hand_made_features()
    rng = np.random.default_rng(2)
    images = rng.uniform(-2, 2, size=(2, 9, 9, 3)).astype(np.float32)
    fin = FeatureImportanceNetwork(depth=4, relu=relu, implementation=implementation)
    fin(F, images)
    kernels, bns = _set_random_fin_weights(fin, rng)
    got = keras.ops.convert_to_numpy(fin(F, images, training=False))
    expected = ref.fin(F, images, kernels, bns, relu=relu)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("shape", [(2, 5, 7, 3, 4), (3, 1, 1, 2, 2), (1, 2, 6, 5, 1)])
def test_conv3x3_as_matmul_matches_numpy(shape):
    batch, height, width, c_in, c_out = shape
    rng = np.random.default_rng(11)
    x = rng.normal(size=(batch, height, width, c_in)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, c_in, c_out)).astype(np.float32)
    got = keras.ops.convert_to_numpy(lfi_ops.conv3x3_as_matmul(x, kernel))
    np.testing.assert_allclose(got, ref.conv3x3_same(x, kernel), rtol=1e-5, atol=1e-5)


def test_fin_implementations_agree_in_values_and_gradients():
    rng = np.random.default_rng(12)
    F = tf.constant(rng.uniform(0, 3, (3, 5, 5, 6)).astype(np.float32))
    images = tf.constant(rng.uniform(-2, 2, (3, 20, 20, 3)).astype(np.float32))
    results = []
    for implementation in ("conv", "matmul"):
        fin = FeatureImportanceNetwork(depth=4, implementation=implementation)
        fin(F, images)
        _set_random_fin_weights(fin, np.random.default_rng(13))
        with tf.GradientTape() as tape:
            tape.watch(F)
            weights = fin(F, images, training=True)
            loss = tf.reduce_sum(weights * tf.range(6, dtype=tf.float32))
        grads = tape.gradient(loss, [F] + [c.kernel for c in fin.convs])
        results.append([weights.numpy()] + [g.numpy() for g in grads])
    for conv_value, matmul_value in zip(*results):
        scale = np.abs(conv_value).max()
        np.testing.assert_allclose(matmul_value, conv_value, atol=1e-5 * scale + 1e-7)


def test_fin_auto_implementation_by_kernel_width():
    from lficam_tf.layers.feature_importance_network import MATMUL_MIN_KERNEL

    images = np.zeros((1, 8, 8, 3), np.float32)
    fin = FeatureImportanceNetwork(depth=2)
    fin.build((1, 2, 2, 1024), images.shape)
    # Both kernels are 1024 x 1024: at the threshold.
    assert [fin._as_matmul(c) for c in fin.convs] == [True, True]
    narrow = FeatureImportanceNetwork(depth=2)
    narrow.build((1, 2, 2, 512), images.shape)
    assert [narrow._as_matmul(c) for c in narrow.convs] == [False, False]
    assert 512 * 512 < MATMUL_MIN_KERNEL <= 1024 * 1024
    forced = FeatureImportanceNetwork(depth=1, implementation="conv")
    forced.build((1, 2, 2, 1024), images.shape)
    assert not forced._as_matmul(forced.convs[0])


def test_relu_placement_changes_the_output():
    F = hand_made_features()
    images = np.random.default_rng(3).uniform(-2, 2, (2, 9, 9, 3)).astype(np.float32)
    outputs = {}
    for relu in ("paired", "every"):
        fin = FeatureImportanceNetwork(depth=4, relu=relu)
        fin(F, images)
        _set_random_fin_weights(fin, np.random.default_rng(4))
        outputs[relu] = keras.ops.convert_to_numpy(fin(F, images))
    assert not np.allclose(outputs["paired"], outputs["every"])


def test_fin_parameter_count_and_width_option():
    F = np.random.rand(1, 4, 4, 16).astype(np.float32)
    images = np.random.rand(1, 16, 16, 3).astype(np.float32)
    fin = FeatureImportanceNetwork()
    fin(F, images)
    # 4 * 9 * K^2 kernel weights plus 4 BNs with scale and offset.
    assert fin.count_params() - 4 * 2 * 16 == 4 * 9 * 16 * 16 + 4 * 2 * 16
    assert len(fin.trainable_weights) == 4 + 8
    narrow = FeatureImportanceNetwork(depth=3, width=4)
    weights = narrow(F, images)
    assert weights.shape == (1, 16)
    kernel_shapes = [tuple(c.kernel.shape) for c in narrow.convs]
    # The bottleneck: 1x1 in, 3x3 in between, 1x1 out.
    assert kernel_shapes == [(1, 1, 16, 4), (3, 3, 4, 4), (1, 1, 4, 16)]
    legacy = FeatureImportanceNetwork(depth=3, width=4, bottleneck=False)
    legacy(F, images)
    kernel_shapes = [tuple(c.kernel.shape) for c in legacy.convs]
    assert kernel_shapes == [(3, 3, 16, 4), (3, 3, 4, 4), (3, 3, 4, 16)]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"depth": 0}, ValueError, "`depth` must be at least 1. Received: depth=0"),
        ({"depth": 2.0}, TypeError, "`depth` must be an int"),
        ({"relu": "all"}, ValueError, r"`relu` must be one of \('paired', 'every'\)"),
        ({"width": 0}, ValueError, "`width` must be at least 1. Received: width=0"),
        ({"width": 2.0}, TypeError, "`width` must be an int or None"),
        (
            {"width": "auto"},
            ValueError,
            r"`width` must be an int >= 1 or None \(the paper's K -> K FIN\)\. Received: width='auto'",
        ),
        (
            {"width": 8, "depth": 1},
            ValueError,
            r"A narrow FIN \(`width`=8\) is a 1x1 convolution in and one out, so it needs `depth` >= 2",
        ),
        (
            {"implementation": "gemm"},
            ValueError,
            r"`implementation` must be one of \('auto', 'conv', 'matmul'\)",
        ),
    ],
)
def test_fin_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        FeatureImportanceNetwork(**kwargs)


def test_fin_rejects_wrong_rank():
    with pytest.raises(ValueError, match="expects features of shape"):
        FeatureImportanceNetwork()(np.zeros((2, 4, 4)), np.zeros((2, 8, 8, 3)))


def _finite_gradients(fn, *tensors):
    variables = [tf.Variable(t) for t in tensors]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.cast(fn(*variables), tf.float32) ** 2)
    grads = tape.gradient(loss, variables)
    return all(np.all(np.isfinite(g.numpy())) for g in grads if g is not None)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_no_nan_in_values_or_gradients_at_edge_cases(dtype):
    F = tf.cast(hand_made_features(), dtype)
    zeros = tf.zeros_like(F)
    weights = tf.cast(tf.fill((2, 4), 0.25), dtype)
    for features in (F, zeros, tf.ones_like(F)):
        normalized = lfi_ops.normalize_feature_maps(features)
        assert np.all(np.isfinite(tf.cast(normalized, tf.float32).numpy()))
        assert _finite_gradients(lfi_ops.normalize_feature_maps, features)
        attention = lfi_ops.importance_weighted_map(features, weights)
        assert np.all(np.isfinite(tf.cast(attention, tf.float32).numpy()))
        assert _finite_gradients(lfi_ops.importance_weighted_map, features, weights)


@pytest.mark.parametrize("implementation", ["auto", "matmul"])
def test_fin_layer_contract(tmp_path, implementation):
    rng = np.random.default_rng(5)
    inputs = [
        rng.uniform(0, 3, (2, 4, 4, 8)).astype(np.float32),
        rng.uniform(-2, 2, (2, 16, 16, 3)).astype(np.float32),
    ]
    run_layer_test(
        lambda: FeatureImportanceNetwork(
            depth=2, relu="every", width=6, implementation=implementation
        ),
        inputs,
        tmp_path,
        expected_output_shapes=[(2, 8)],
    )


def test_attention_map_layer_contract(tmp_path):
    rng = np.random.default_rng(6)
    inputs = [
        rng.uniform(0, 3, (2, 4, 4, 8)).astype(np.float32),
        rng.dirichlet(np.ones(8), size=2).astype(np.float32),
    ]
    run_layer_test(LFIAttentionMap, inputs, tmp_path, [(2, 4, 4, 1)])


def test_residual_attention_layer_contract(tmp_path):
    rng = np.random.default_rng(7)
    inputs = [
        rng.uniform(0, 3, (2, 4, 4, 8)).astype(np.float32),
        rng.uniform(0, 1, (2, 4, 4, 1)).astype(np.float32),
    ]
    run_layer_test(ResidualAttention, inputs, tmp_path, [(2, 4, 4, 8)])
