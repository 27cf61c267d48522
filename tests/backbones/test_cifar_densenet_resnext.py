"""The authors' CIFAR DenseNet-BC and ResNeXt, and the post-attention block."""

import keras
import lficam_numpy as ref
import numpy as np
import pytest
import tensorflow as tf

import lficam_tf
from lficam_tf import graph
from lficam_tf import ops as lfi_ops


def _trainable(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


# The authors' LFI-CAM models, counted from their code (issue 11): trainable
# parameters (FIN, BNs and biases included) and FIN's share.
AUTHORS_COUNTS = [
    ("cifar_densenet_bc100", 10, 4_982_602, 4_213_440),
    ("cifar_densenet_bc100", 100, 5_013_472, 4_213_440),
    ("cifar_resnext29_8x64d", 10, 72_183_626, 37_756_928),
    ("cifar_resnext29_8x64d", 100, 72_275_876, 37_756_928),
    ("resnet18", 2, 20_618_818, 9_441_280),
]


# Models the later tests reuse (building a DenseNet or ResNeXt takes seconds).
REUSED = {("cifar_densenet_bc100", 10), ("cifar_resnext29_8x64d", 10)}


@pytest.fixture(scope="module")
def built():
    """`built(name, classes)`: the LFI-CAM model, kept when in REUSED."""
    cache = {}

    def get(name, classes):
        if (name, classes) in cache:
            return cache[name, classes]
        # The authors' models: the paper's K -> K FIN (resnet18's default is
        # the bottleneck, README "FIN width").
        model = lficam_tf.build_model(name, num_classes=classes, fin_width=None)
        if (name, classes) in REUSED:
            cache[name, classes] = model
        return model

    yield get
    cache.clear()


@pytest.mark.parametrize("name, classes, total, fin", AUTHORS_COUNTS)
def test_the_authors_exact_parameter_counts(built, name, classes, total, fin):
    # Built, not run: a forward pass of the 72 M-parameter ResNeXt is not needed.
    model = built(name, classes)
    assert _trainable(model) == total
    assert _trainable(model.get_layer("feature_importance")) == fin
    k = lficam_tf.get_backbone_spec(name).channels
    assert fin == 36 * k * k + 8 * k  # 4 K -> K 3x3 convs and their BNs


def random_images(n, size=32, seed=0):
    return (
        np.random.default_rng(seed)
        .uniform(0, 255, (n, size, size, 3))
        .astype(np.float32)
    )


# --- DenseNet-BC -------------------------------------------------------------


def test_densenet_layout(densenet):
    backbone = densenet.backbone
    assert backbone.output.shape[1:] == (8, 8, 342)
    # 24 -> +16 * 12 = 216 -> 108 -> 300 -> 150 -> 342 channels.
    for layer, channels in [
        ("stem_conv", 24),
        ("dense1_layer16_concat", 216),
        ("trans1_conv", 108),
        ("dense2_layer16_concat", 300),
        ("trans2_conv", 150),
    ]:
        assert backbone.get_layer(layer).output.shape[-1] == channels
    # Bottleneck layers: BN-ReLU-1x1 conv to 4k, BN-ReLU-3x3 conv to k.
    assert backbone.get_layer("dense3_layer1_1_conv").kernel.shape == (1, 1, 150, 48)
    assert backbone.get_layer("dense3_layer1_2_conv").kernel.shape == (3, 3, 48, 12)
    assert backbone.get_layer("trans2_pool").output.shape[1:3] == (8, 8)
    # F is the raw concatenation: no final BN or ReLU inside the backbone.
    assert backbone.layers[-1].name == "dense3_layer16_concat"
    assert not any(layer.name.startswith("final") for layer in backbone.layers)
    bn = backbone.get_layer("dense1_layer1_1_bn")
    assert bn.epsilon == 1e-5 and bn.momentum == 0.9
    # The authors' init: N(0, 2 / (k * k * out_channels)).
    kernel = backbone.get_layer("dense3_layer1_1_conv").kernel.numpy()  # 150 -> 48
    std = np.sqrt(2.0 / 48)
    assert abs(kernel.std() / std - 1) < 0.05 and abs(kernel.mean()) < 0.1 * std
    with pytest.raises(ValueError, match="`depth` must be 6n \\+ 4"):
        lficam_tf.backbones.cifar_densenet.cifar_densenet(depth=99)


@pytest.fixture(scope="module")
def densenet(built):
    """An LFI-CAM DenseNet-BC-100 with non-trivial final-BN statistics."""
    model = built("cifar_densenet_bc100", 10)
    rng = np.random.default_rng(7)
    norm = model.post_attention.get_layer("final_bn")
    norm.set_weights(
        [
            rng.uniform(0.5, 1.5, 342).astype(np.float32),
            rng.normal(0, 0.3, 342).astype(np.float32),
            rng.normal(0, 0.3, 342).astype(np.float32),
            rng.uniform(0.5, 2.0, 342).astype(np.float32),
        ]
    )
    return model


def _post_attention_numpy(model, x):
    gamma, beta, mean, var = model.post_attention.get_layer("final_bn").get_weights()
    return np.maximum(ref.batch_norm_inference(x, gamma, beta, mean, var), 0)


def _assert_logits_close(actual, expected):
    """float32 logits against float64 numpy, to float32 precision of their scale.

    The random DenseNet's logits reach 1e6 and are sums of terms of both signs,
    so a logit near zero carries the rounding error of the big terms: compare
    to 1e-5 of the largest magnitude, not of each element.
    """
    actual = keras.ops.convert_to_numpy(actual)
    np.testing.assert_allclose(
        actual, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max()
    )


def test_densenet_final_bn_relu_runs_on_f_prime(densenet):
    """logits = dense(GAP(ReLU(BN((1 + A) F)))), with the DenseNet's final BN."""
    images = random_images(2, seed=1)
    out = densenet(images)
    F = keras.ops.convert_to_numpy(
        densenet.backbone(densenet.preprocessor(images))
    ).astype(np.float64)
    A = ref.attention_map(F, keras.ops.convert_to_numpy(out["importance"]))
    np.testing.assert_allclose(out["attention"], A, atol=1e-5)
    pooled = _post_attention_numpy(densenet, ref.residual_attention(F, A)).mean((1, 2))
    kernel, bias = densenet.classifier.get_weights()
    _assert_logits_close(out["logits"], pooled @ kernel + bias)
    # The baseline applies the same block to F.
    baseline = lficam_tf.build_model("cifar_densenet_bc100", 10, head="baseline")
    baseline.backbone.set_weights(densenet.backbone.get_weights())
    baseline.post_attention.set_weights(densenet.post_attention.get_weights())
    baseline.classifier.set_weights(densenet.classifier.get_weights())
    pooled = _post_attention_numpy(densenet, F).mean((1, 2))
    _assert_logits_close(baseline(images)["logits"], pooled @ kernel + bias)
    # Post-hoc CAMs explain what the classifier pools: ReLU(BN(F')).
    assert graph.last_feature_layer(densenet) == "post_attention/final_relu"


def edge_case_features(densenet):
    """Real DenseNet features (negative values) with every edge case of s(F)."""
    images = random_images(2, seed=2)
    x = keras.ops.convert_to_numpy(densenet.preprocessor(images))
    F = keras.ops.convert_to_numpy(densenet.backbone(x)).copy()
    assert F.min() < 0 < F.max()  # unlike post-ReLU ResNet features
    F[0, :, :, 0] = -0.75  # constant negative channel -> 1
    F[0, :, :, 1] = 0.0  # all-zero channel -> 0
    F[1, :, :, 2] = 2.0  # constant positive channel -> 1
    # Exact zeros in a channel with negative values, inside the top-left 4x4:
    # the formula would give (0 - min) / (max - min) > 0 there; the rule, 0.
    corner = F[1, :4, :4, 3:]
    # (The backbone's weights are random: a channel with two positive values
    # there, so that two of them can be set to zero.)
    mixed = 3 + np.flatnonzero(
        (corner.min((0, 1)) < 0) & ((corner > 0).sum((0, 1)) >= 2)
    )
    channel = int(mixed[0])
    rows, cols = np.nonzero(F[1, :4, :4, channel] > 0)
    F[1, rows[:2], cols[:2], channel] = 0.0
    assert F[1, :, :, channel].min() < 0
    return x, F, (rows[:2], cols[:2], channel)


def test_densenet_negative_features_edge_cases_match_numpy(densenet):
    x, F, (rows, cols, channel) = edge_case_features(densenet)
    s = keras.ops.convert_to_numpy(lfi_ops.normalize_feature_maps(F))
    expected = ref.normalize_feature_maps(F)
    np.testing.assert_allclose(s, expected, atol=1e-6)
    assert np.all(s[0, :, :, 0] == 1) and np.all(s[0, :, :, 1] == 0)
    assert len(rows) == 2 and np.all(s[1, rows, cols, channel] == 0)
    # The head on these features, against the numpy pipeline; on the top-left
    # 4x4 of the maps (edge cases included), which keeps the loops short.
    F = F[:, :4, :4, :]
    fin = densenet.get_layer("feature_importance")
    kernels = [keras.ops.convert_to_numpy(conv.kernel) for conv in fin.convs]
    bns = [
        tuple(w.astype(np.float64) for w in norm.get_weights()) for norm in fin.norms
    ]
    w = keras.ops.convert_to_numpy(fin(F, x, training=False))
    np.testing.assert_allclose(w, ref.fin(F, x, kernels, bns), rtol=1e-4, atol=1e-7)
    A = keras.ops.convert_to_numpy(densenet.attention_map(F, w))
    np.testing.assert_allclose(A, ref.attention_map(F, w), atol=1e-5)


def test_densenet_head_values_and_gradients_are_finite_at_edge_cases(densenet):
    x, F, _ = edge_case_features(densenet)
    features = tf.Variable(F)
    zeros = tf.Variable(np.zeros_like(F))
    head = [densenet.get_layer("feature_importance"), densenet.post_attention]
    weights = [w for layer in head for w in layer.trainable_weights]
    weights += densenet.classifier.trainable_weights
    for variable in (features, zeros):
        with tf.GradientTape() as tape:
            w = densenet.feature_importance(variable, x, training=True)
            A = densenet.attention_map(variable, w)
            attended = densenet.post_attention(
                densenet.residual_attention(variable, A), training=True
            )
            logits = densenet.classifier(densenet.pooling(attended))
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(
                    np.array([0, 9]), logits, from_logits=True
                )
            )
        grads = tape.gradient(loss, [variable, *weights])
        for value in (w, A, logits):
            assert np.all(np.isfinite(keras.ops.convert_to_numpy(value)))
        for grad in grads:
            assert grad is not None and np.all(np.isfinite(grad.numpy()))


def test_densenet_abn_is_the_abn_authors_model_and_takes_backbone_weights(
    tmp_path, densenet
):
    path = str(tmp_path / "densenet.weights.h5")
    densenet.backbone.save_weights(path)
    model = lficam_tf.build_model("cifar_densenet_bc100", 3, weights=path, head="abn")
    # Extractor through the second transition; the map is 8x8 like F.
    assert model.extractor.output.shape[1:] == (8, 8, 150)
    assert model.attention_stage.output.shape[1:] == (8, 8, 342)
    assert model.attention_stage.layers[-1].name == "dense3_layer16_concat"
    assert [layer.name for layer in model.perception_stage.layers[-2:]] == [
        "final_bn",
        "final_relu",
    ]
    assert tuple(model.output["attention"].shape) == (None, 8, 8, 1)
    # The backbone's file fills the extractor and the perception stage's
    # dense block; the final BN (post-attention, not in the file) and the
    # attention stage are new.
    for name, part in [
        ("stem_conv", model.extractor),
        ("dense3_layer16_2_conv", model.perception_stage),
    ]:
        np.testing.assert_array_equal(
            part.get_layer(name).kernel.numpy(),
            densenet.backbone.get_layer(name).kernel.numpy(),
        )
    assert not np.array_equal(
        model.attention_stage.get_layer("dense3_layer16_2_conv").kernel.numpy(),
        densenet.backbone.get_layer("dense3_layer16_2_conv").kernel.numpy(),
    )
    np.testing.assert_array_equal(
        model.perception_stage.get_layer("final_bn").gamma.numpy(), 1.0
    )


# --- ResNeXt -----------------------------------------------------------------


def test_resnext_layout_and_init(built):
    backbone = built("cifar_resnext29_8x64d", 10).backbone
    assert backbone.output.shape[1:] == (8, 8, 1024)
    stem = backbone.get_layer("stem_conv")
    assert stem.kernel.shape == (3, 3, 3, 64) and not stem.use_bias
    # Type-C blocks: 1x1 to D = 8 * out / 4, grouped 3x3 (8 groups), 1x1 to out.
    for stage, (out, width, stride) in enumerate(
        [(256, 512, 1), (512, 1024, 2), (1024, 2048, 2)], start=1
    ):
        grouped = backbone.get_layer(f"stage{stage}_block1_2_conv")
        assert grouped.groups == 8 and grouped.strides == (stride, stride)
        assert grouped.kernel.shape == (3, 3, width // 8, width)
        assert backbone.get_layer(f"stage{stage}_block1_3_conv").filters == out
        assert f"stage{stage}_block1_shortcut_conv" in [x.name for x in backbone.layers]
        assert f"stage{stage}_block2_shortcut_conv" not in [
            x.name for x in backbone.layers
        ]
    assert "stage3_block3_out" in [x.name for x in backbone.layers]
    assert "stage3_block4_out" not in [x.name for x in backbone.layers]
    # Fan-out He-normal counts every output channel of a grouped conv.
    kernel = backbone.get_layer("stage1_block1_2_conv").kernel.numpy()
    std = np.sqrt(2.0 / (3 * 3 * 512))
    assert abs(kernel.std() / std - 1) < 0.05
    with pytest.raises(ValueError, match="`depth` must be 9n \\+ 2"):
        lficam_tf.backbones.cifar_resnext.cifar_resnext(depth=30)


def test_resnext_forward_and_abn_parts(built):
    out = built("cifar_resnext29_8x64d", 10)(random_images(1))
    assert out["attention"].shape == (1, 8, 8, 1)
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(out["logits"])))
    np.testing.assert_allclose(out["importance"].numpy().sum(), 1.0, atol=1e-5)
    spec = lficam_tf.get_backbone_spec("cifar_resnext29_8x64d")
    extractor, perception, attention = spec.build_abn()
    assert extractor.output.shape[1:] == (16, 16, 512)
    assert perception.output.shape[1:] == (8, 8, 1024)
    assert attention.output.shape[1:] == (16, 16, 1024)  # a stride-1 copy
    assert perception.get_layer("stage3_block1_2_conv").strides == (2, 2)
    assert attention.get_layer("stage3_block1_2_conv").strides == (1, 1)
