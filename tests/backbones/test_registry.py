"""The backbone registry: names, metadata, and one test over every backbone."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import lficam_tf
from lficam_tf.backbones import BackboneSpec, register_backbone

APPLICATIONS = [
    "resnet50", "resnet101", "resnet152", "resnet50v2", "densenet121",
    "efficientnetb0", "mobilenetv2", "convnext_tiny", "vgg16",
]  # fmt: skip


def test_the_issue_s_backbones_are_registered():
    names = lficam_tf.list_backbones()
    for name in APPLICATIONS + [
        "cifar_resnet20", "cifar_resnet32", "cifar_resnet56", "cifar_resnet110",
        "cifar_densenet_bc100", "cifar_resnext29_8x64d", "resnet18", "resnet34",
    ]:  # fmt: skip
        assert name in names


def test_list_backbones_wildcards_natural_order_and_abn_filter():
    assert lficam_tf.list_backbones("cifar_resnet*") == [
        "cifar_resnet8", "cifar_resnet20", "cifar_resnet32", "cifar_resnet56",
        "cifar_resnet110",
    ]  # fmt: skip
    assert lficam_tf.list_backbones("resnet??") == ["resnet18", "resnet34", "resnet50"]
    abn = lficam_tf.list_backbones(abn=True)
    assert "resnet18" in abn and "cifar_resnet110" in abn and "vgg16" not in abn
    assert {"cifar_densenet_bc100", "cifar_resnext29_8x64d", "resnet50"} <= set(abn)
    assert lficam_tf.list_backbones("nothing*") == []


def test_unknown_backbone_suggests_close_names_and_lists_all():
    with pytest.raises(ValueError) as info:
        lficam_tf.build_model("resnet5")
    message = str(info.value)
    assert "Unknown backbone 'resnet5'. Did you mean 'resnet50'" in message
    assert "cifar_resnet110" in message and "vgg16" in message
    assert "See lficam_tf.list_backbones()." in message
    # Case does not hide the name (the package's one did-you-mean rule).
    with pytest.raises(ValueError, match="Did you mean 'mobilenetv2'"):
        lficam_tf.build_model("MobileNetV2")
    with pytest.raises(ValueError, match="Unknown backbone 'xyz'. Known backbones"):
        lficam_tf.get_backbone_spec("xyz")
    with pytest.raises(TypeError, match="`backbone` must be a registered name"):
        lficam_tf.get_backbone_spec(3)


def test_duplicate_registration_is_refused():
    spec = lficam_tf.get_backbone_spec("resnet18")
    with pytest.raises(ValueError, match="already registered"):
        register_backbone(spec)
    assert isinstance(spec, BackboneSpec)


def _small_shape(spec):
    if spec.family == "cifar_resnet":
        return spec.input_shape
    if spec.family in ("cifar_densenet", "cifar_resnext"):
        return (16, 16, 3)  # 4x4 maps; ResNeXt-29 costs 5 GFLOPs at 32x32
    return (64, 64, 3)


@pytest.mark.slow
@pytest.mark.parametrize("name", lficam_tf.list_backbones())
def test_every_backbone_matches_its_metadata_and_trains(name):
    spec = lficam_tf.get_backbone_spec(name)
    shape = _small_shape(spec)
    backbone = spec.build(input_shape=shape, weights=None)
    assert isinstance(backbone, keras.Model)
    h, w, k = backbone.output.shape[1:]
    assert k == spec.channels
    assert (h, w) == (
        math.ceil(shape[0] / spec.stride),
        math.ceil(shape[1] / spec.stride),
    )
    if spec.feature_layer:
        assert backbone.get_layer(spec.feature_layer).output.shape[-1] == spec.channels
    # Forward and backward: finite features and gradients for every weight.
    x = tf.random.uniform((2, *shape), -1, 1)
    with tf.GradientTape() as tape:
        features = backbone(x, training=True)
        loss = tf.reduce_mean(features**2)
    grads = tape.gradient(loss, backbone.trainable_weights)
    assert np.all(np.isfinite(features.numpy()))
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)
