"""Our own ResNets, built as METHOD.md section 3 says."""

import numpy as np
import pytest

import lficam_tf


def _trainable(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


# METHOD.md section 3: the authors' CIFAR LFI-CAM models for 10 classes.
AUTHORS_COUNTS = {
    "cifar_resnet20": (420_442, 147_968),
    "cifar_resnet32": (614_874, 147_968),
    "cifar_resnet56": (3_230_874, 2_361_344),
    "cifar_resnet110": (4_065_498, 2_361_344),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(AUTHORS_COUNTS))
def test_cifar_presets_have_the_authors_exact_parameter_counts(name):
    total, fin = AUTHORS_COUNTS[name]
    model = lficam_tf.build_model(name, num_classes=10)
    assert _trainable(model) == total
    assert _trainable(model.get_layer("feature_importance")) == fin
    # FIN = 4 * 9 * K^2 (METHOD.md table) plus the BNs' scale and offset.
    k = lficam_tf.get_backbone_spec(name).channels
    assert fin == 4 * 9 * k * k + 4 * 2 * k


def test_cifar_resnet20_without_fin_is_the_plain_resnet():
    assert (
        _trainable(lficam_tf.build_model("cifar_resnet20", 10, head="baseline"))
        == 272_474
    )


def test_cifar_resnet_layout():
    # ResNet-20: 3 basic blocks per stage; ResNet-56: bottlenecks, 16 -> 64 shortcut.
    r20 = lficam_tf.get_backbone_spec("cifar_resnet20").build()
    names = [layer.name for layer in r20.layers]
    assert "stage3_block3_out" in names and "stage3_block4_out" not in names
    assert "stage1_block1_shortcut_conv" not in names  # identity: 16 -> 16, stride 1
    assert "stage2_block1_shortcut_conv" in names
    assert r20.get_layer("stage2_block1_1_conv").strides == (2, 2)
    assert r20.get_layer("stem_conv").kernel.shape == (3, 3, 3, 16)
    assert not r20.get_layer("stem_conv").use_bias
    bn = r20.get_layer("stem_bn")
    assert bn.epsilon == 1e-5 and bn.momentum == 0.9
    r56 = lficam_tf.get_backbone_spec("cifar_resnet56").build()
    assert r56.get_layer("stage1_block1_shortcut_conv").kernel.shape == (1, 1, 16, 64)
    assert r56.get_layer("stage1_block1_3_conv").kernel.shape == (1, 1, 16, 64)
    assert r56.get_layer("stage2_block1_2_conv").strides == (2, 2)  # 3x3 carries it
    assert r56.output.shape[1:] == (8, 8, 256)


def test_strided_convolutions_pad_like_pytorch():
    """A stride-2 3x3 conv sees rows -1, 0, 1 first (PyTorch padding=1)."""
    r20 = lficam_tf.get_backbone_spec("cifar_resnet20").build()
    pad = r20.get_layer("stage2_block1_1_pad")
    assert pad.padding == ((1, 1), (1, 1))
    assert r20.get_layer("stage2_block1_1_conv").padding == "valid"


def test_conv_init_is_he_normal_fan_out():
    r110 = lficam_tf.get_backbone_spec("cifar_resnet110").build()
    kernel = r110.get_layer("stage3_block1_2_conv").kernel.numpy()  # 3x3, 64 -> 64
    expected_std = np.sqrt(2.0 / (3 * 3 * 64))
    assert abs(kernel.std() / expected_std - 1) < 0.05
    assert abs(kernel.mean()) < 0.1 * expected_std


@pytest.mark.parametrize("stem_stride, size", [(2, 7), (1, 14)])
def test_resnet18_stem_stride_option(stem_stride, size):
    model = lficam_tf.build_model(
        "resnet18", 2, head="baseline", stem_stride=stem_stride
    )
    assert model.backbone.output.shape[1:] == (size, size, 512)


def test_resnet34_and_stem_errors():
    model = lficam_tf.get_backbone_spec("resnet34").build(input_shape=(64, 64, 3))
    assert len([x for x in model.layers if x.name.endswith("_out")]) == 3 + 4 + 6 + 3
    with pytest.raises(
        ValueError, match="`stem_stride` must be 1 or 2. Received: stem_stride=3"
    ):
        lficam_tf.build_model("resnet18", 2, stem_stride=3)
    with pytest.raises(ValueError, match="`stem_stride` applies to"):
        lficam_tf.build_model("cifar_resnet20", 2, stem_stride=1)
