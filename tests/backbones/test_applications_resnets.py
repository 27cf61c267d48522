"""keras.applications ResNets: ABN (the ABN authors' ImageNet model) and the
stride-1 stem of the LFI-CAM authors' last commit, weights files included."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import lficam_tf
from lficam_tf.export import export

SIZE = 64  # the smallest input that leaves ResNet-50 a 2x2 map


@pytest.fixture(scope="module")
def resnet50_weights(tmp_path_factory):
    """A ResNet-50 (include_top=False) weights file and the model it came from."""
    model = keras.applications.ResNet50(
        include_top=False, weights=None, input_shape=(SIZE, SIZE, 3)
    )
    path = str(tmp_path_factory.mktemp("weights") / "resnet50.weights.h5")
    model.save_weights(path)
    return path, model


def test_abn_is_listed_for_the_keras_applications_resnets():
    abn = lficam_tf.list_backbones(abn=True)
    for name in ("resnet50", "resnet101", "resnet152"):
        assert name in abn
    for name in ("resnet50v2", "vgg16", "densenet121"):
        assert name not in abn
    assert lficam_tf.list_backbones("resnet*", abn=True) == [
        "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
    ]  # fmt: skip


def _kernel(model, layer):
    return model.get_layer(layer).kernel.numpy()


@pytest.mark.slow
def test_resnet50_abn_forward_fit_step_and_export(tmp_path, resnet50_weights):
    path, source = resnet50_weights
    model = lficam_tf.build_model(
        "resnet50", 3, input_shape=(SIZE, SIZE, 3), head="abn", weights=path
    )
    # Extractor up to conv4 (stride 16), the conv5 stage, its stride-1 copy.
    assert model.extractor.output.shape[1:] == (4, 4, 1024)
    assert model.perception_stage.output.shape[1:] == (2, 2, 2048)
    assert model.attention_stage.output.shape[1:] == (4, 4, 2048)
    for name in ("conv5_block1_0_conv", "conv5_block1_1_conv"):
        assert model.perception_stage.get_layer(name).strides == (2, 2)
        assert model.attention_stage.get_layer(name).strides == (1, 1)
    # The file fills the extractor and the perception stage; the attention
    # stage starts from Keras' random initialisation, as ABN's branch does.
    np.testing.assert_array_equal(
        _kernel(model.extractor, "conv1_conv"), _kernel(source, "conv1_conv")
    )
    for part, same in [(model.perception_stage, True), (model.attention_stage, False)]:
        equal = np.array_equal(
            _kernel(part, "conv5_block3_3_conv"), _kernel(source, "conv5_block3_3_conv")
        )
        assert equal == same

    images = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3))
    images = images.astype(np.float32)
    out = model(images)
    assert out["logits"].shape == out["attention_logits"].shape == (2, 3)
    attention = keras.ops.convert_to_numpy(out["attention"])
    assert attention.shape == (2, 4, 4, 1)
    assert attention.min() >= 0 and attention.max() <= 1  # a sigmoid (saturated)

    # One eager step: tracing ResNet-50 ABN's training graph takes a minute on
    # 2 cores; graph-mode ABN training is tested on cifar_resnet20, and the
    # export below traces this model's forward pass.
    model.compile(optimizer=keras.optimizers.SGD(1e-3), run_eagerly=True)
    history = model.fit(images, np.array([0, 2]), epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0])
    assert "attention_logits_loss" in history and "logits_loss" in history

    served = tf.saved_model.load(str(export(model, tmp_path / "serving", top_k=2)))
    result = served.signatures["serving_default"](images=tf.constant(images))
    np.testing.assert_allclose(
        result["probabilities"].numpy(),
        tf.nn.softmax(model(images)["logits"]).numpy(),
        atol=1e-5,
    )
    assert result["attention_features"].shape == (2, 4, 4, 1)


def test_stem_stride_one_keeps_every_weight(resnet50_weights):
    path, source = resnet50_weights
    spec = lficam_tf.get_backbone_spec("resnet50")
    assert "stem_stride" in spec.options
    backbone = spec.build(input_shape=(SIZE, SIZE, 3), weights=path, stem_stride=1)
    # 2x the map size: 4x4 instead of 2x2 at 64x64 (14x14 instead of 7x7 at 224).
    assert backbone.output.shape[1:] == (4, 4, 2048)
    assert backbone.get_layer("conv1_conv").strides == (1, 1)
    assert backbone.get_layer("pool1_pool").strides == (2, 2)
    assert len(backbone.weights) == len(source.weights)
    for ours, theirs in zip(backbone.weights, source.weights):
        assert ours.path == theirs.path
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    # The same stem for the LFI-CAM model and ABN (extractor at stride 8).
    abn_parts = spec.build_abn(input_shape=(SIZE, SIZE, 3), weights=None, stem_stride=1)
    assert [p.output.shape[1] for p in abn_parts] == [8, 4, 8]


def test_stem_stride_option_on_every_imagenet_style_resnet():
    for name in ("resnet101", "resnet152", "resnet50v2", "resnet101v2"):
        assert "stem_stride" in lficam_tf.get_backbone_spec(name).options
    with pytest.raises(ValueError, match=r"`stem_stride` applies to \[.*'resnet50'"):
        lficam_tf.build_model("vgg16", 2, input_shape=(SIZE, SIZE, 3), stem_stride=1)
    with pytest.raises(ValueError, match="`stem_stride` must be 1 or 2"):
        lficam_tf.build_model("resnet50", 2, input_shape=(SIZE, SIZE, 3), stem_stride=4)
