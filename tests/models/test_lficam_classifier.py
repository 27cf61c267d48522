"""LFI-CAM models on real backbones: the invariants of METHOD.md section 2."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import lficam_tf
from lficam_tf.layers import ResidualAttention

APPLICATIONS = [
    "resnet50", "resnet101", "resnet152", "resnet50v2", "densenet121",
    "efficientnetb0", "mobilenetv2", "convnext_tiny", "vgg16",
]  # fmt: skip


def random_images(n, size, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, *size, 3)).astype(np.float32)


def check_invariants(model, images):
    out = model(images)
    features = model.backbone(
        model.preprocessor(images) if model.preprocessor is not None else images
    )
    importance = keras.ops.convert_to_numpy(out["importance"])
    attention = keras.ops.convert_to_numpy(out["attention"])
    assert out["logits"].shape == (len(images), model.num_classes)
    assert importance.shape == (len(images), features.shape[-1])
    np.testing.assert_allclose(importance.sum(axis=-1), 1.0, atol=1e-5)
    assert attention.shape == (*features.shape[:3], 1)
    assert attention.min() >= 0.0 and attention.max() <= 1.0
    # METHOD.md: max 1 per image whenever L = ReLU(sum_k w_k F_k) is not
    # constant. Random weights on swish features (EfficientNet's) can make
    # every weighted sum negative or ~1e-12: L is then 0 or float32 noise,
    # and either answer (A = L, or its min-max) is in [0, 1], checked above.
    F = keras.ops.convert_to_numpy(features).astype("float64")
    L = np.maximum(np.einsum("bhwk,bk->bhw", F, importance), 0)
    varies = L.max(axis=(1, 2)) - L.min(axis=(1, 2)) > 1e-6
    np.testing.assert_allclose(attention.max(axis=(1, 2, 3))[varies], 1.0, atol=1e-6)
    return out


@pytest.mark.parametrize(
    "name, size", [("cifar_resnet20", (32, 32)), ("resnet18", (64, 64))]
)
def test_invariants_on_our_backbones(name, size):
    check_invariants(
        lficam_tf.build_model(name, 7, input_shape=(*size, 3)), random_images(3, size)
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", APPLICATIONS)
def test_every_application_backbone_builds_runs_and_has_the_fin_of_the_table(name):
    spec = lficam_tf.get_backbone_spec(name)
    # Seeded: an unseeded random ConvNeXt-T once gave an image whose weighted
    # maps were all negative, an all-zero map after the ReLU (CI flake).
    keras.utils.set_random_seed(0)
    model = lficam_tf.build_model(name, 5, input_shape=(64, 64, 3))
    check_invariants(model, random_images(2, (64, 64)))
    k, w = spec.channels, spec.fin_width
    fin = model.get_layer("feature_importance")
    # The default on these wide backbones is the bottleneck FIN (README, "FIN
    # width"): 1x1 K -> W, two 3x3 W -> W, 1x1 W -> K and four BNs (the
    # paper's 4 * 9 * K^2 is tests/models/test_fin_width.py's).
    assert fin.width == w and w is not None
    trainable = sum(int(np.prod(v.shape)) for v in fin.trainable_weights)
    assert trainable == 2 * k * w + 18 * w * w + 2 * (3 * w + k)


def test_zero_attention_gives_the_plain_backbone_gap_dense():
    lficam = lficam_tf.build_model("cifar_resnet20", 4)
    baseline = lficam_tf.build_model("cifar_resnet20", 4, head="baseline")
    baseline.backbone.set_weights(lficam.backbone.get_weights())
    baseline.classifier.set_weights(lficam.classifier.get_weights())
    images = random_images(2, (32, 32))
    features = lficam.backbone(lficam.preprocessor(images))
    attended = ResidualAttention()(features, keras.ops.zeros(features.shape[:3] + (1,)))
    logits = lficam.classifier(lficam.pooling(attended))
    np.testing.assert_allclose(logits, baseline(images)["logits"], rtol=1e-5, atol=1e-5)
    # ... and the real attention does change the logits.
    assert not np.allclose(lficam(images)["logits"], logits, atol=1e-4)


def test_model_matches_the_numpy_pipeline_end_to_end():
    """logits = dense(GAP((1 + A) * F)) with A from the FIN weights, in numpy."""
    import lficam_numpy as ref

    model = lficam_tf.build_model("cifar_resnet20", 3, fin_depth=2)
    images = random_images(2, (32, 32), seed=3)
    out = model(images)
    F = keras.ops.convert_to_numpy(model.backbone(model.preprocessor(images))).astype(
        np.float64
    )
    w = keras.ops.convert_to_numpy(out["importance"]).astype(np.float64)
    A = ref.attention_map(F, w)
    np.testing.assert_allclose(out["attention"], A, atol=1e-5)
    kernel, bias = model.classifier.get_weights()
    logits = ref.residual_attention(F, A).mean(axis=(1, 2)) @ kernel + bias
    np.testing.assert_allclose(out["logits"], logits, rtol=1e-4, atol=1e-4)


def _grads(model, images, labels):
    with tf.GradientTape() as tape:
        out = model(images, training=True)
        loss = sum(
            keras.losses.sparse_categorical_crossentropy(
                labels, out[name], from_logits=True
            )
            for name in model.LOSS_OUTPUTS
        )
    return out, tape.gradient(loss, model.trainable_weights)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("head", ["lficam", "abn", "baseline"])
def test_finite_gradients_for_every_weight(policy, head):
    keras.config.set_dtype_policy(policy)
    model = lficam_tf.build_model("cifar_resnet20", 3, head=head)
    images = random_images(4, (32, 32))
    images[0] = 0.0  # an all-zero image
    images[1] = 255.0  # a saturated one
    out, grads = _grads(model, images, np.array([0, 1, 2, 0]))
    for value in out.values():
        assert np.all(
            np.isfinite(keras.ops.convert_to_numpy(keras.ops.cast(value, "float32")))
        )
    assert len(grads) == len(model.trainable_weights)
    for weight, grad in zip(model.trainable_weights, grads):
        assert grad is not None, weight.path
        assert np.all(np.isfinite(keras.ops.convert_to_numpy(grad))), weight.path
    if head == "lficam":
        # Gradients reach the backbone through FIN as well as through F'.
        assert any(
            np.any(g.numpy() != 0)
            for g in grads[: len(model.backbone.trainable_weights)]
        )


def test_all_zero_batch_gives_finite_outputs_and_gradients():
    model = lficam_tf.build_model("cifar_resnet20", 3, preprocessing=None)
    images = np.zeros((2, 32, 32, 3), np.float32)
    out, grads = _grads(model, images, np.array([0, 1]))
    # With no preprocessing, zero images make whole feature channels zero.
    assert np.all(np.isfinite(out["attention"])) and np.all(
        np.isfinite(out["importance"])
    )
    assert all(np.all(np.isfinite(g.numpy())) for g in grads)
