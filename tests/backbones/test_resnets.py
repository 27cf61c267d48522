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
        lficam_tf.build_model("cifar_densenet_bc100", 2, stem_stride=1)
    with pytest.raises(ValueError, match="`stem_stride` must be 1 or 2"):
        lficam_tf.build_model("cifar_resnet8", 2, stem_stride=4)


def test_cifar_resnet8_has_one_block_per_stage():
    r8 = lficam_tf.get_backbone_spec("cifar_resnet8").build()
    outs = [x.name for x in r8.layers if x.name.endswith("_out")]
    assert outs == ["stage1_block1_out", "stage2_block1_out", "stage3_block1_out"]
    # Stem 3*3*3*16, then per stage two 3x3 convs and, where the stride or
    # the channels change, a 1x1 shortcut; each conv followed by a BN.
    convs = 3 * 3 * 3 * 16 + 2 * 9 * 16 * 16
    convs += 9 * 16 * 32 + 9 * 32 * 32 + 16 * 32
    convs += 9 * 32 * 64 + 9 * 64 * 64 + 32 * 64
    bn_channels = 16 + 2 * 16 + 3 * 32 + 3 * 64
    assert _trainable(r8) == convs + 2 * bn_channels
    assert r8.output.shape[1:] == (8, 8, 64)


@pytest.mark.parametrize("stem_stride, size", [(1, 16), (2, 8)])
def test_cifar_resnet_stem_stride_option(stem_stride, size):
    """stride 2 halves the maps of a 64x64 input and keeps every weight."""
    model = lficam_tf.build_model(
        "cifar_resnet8", 6, input_shape=(64, 64, 3), stem_stride=stem_stride
    )
    assert model.backbone.output.shape[1:] == (size, size, 64)
    stem = model.backbone.get_layer("stem_conv")
    assert stem.strides == (stem_stride, stem_stride)
    plain = lficam_tf.build_model("cifar_resnet8", 6, input_shape=(64, 64, 3))
    assert model.count_params() == plain.count_params()


def test_cifar_resnet_stride_two_stem_matches_a_numpy_convolution():
    """The stem sees rows -1, 0, 1 first (PyTorch padding=1) at stride 2."""
    backbone = lficam_tf.get_backbone_spec("cifar_resnet8").build(
        input_shape=(8, 8, 3), stem_stride=2
    )
    conv = backbone.get_layer("stem_conv")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 8, 8, 3)).astype("float32")
    stem_in = backbone.get_layer("stem_pad").input
    import keras

    got = keras.Model(stem_in, conv.output)(x).numpy()[0]
    kernel = conv.kernel.numpy()
    padded = np.pad(x[0], ((1, 1), (1, 1), (0, 0)))
    want = np.zeros((4, 4, 16), "float32")
    for i in range(4):
        for j in range(4):
            patch = padded[2 * i : 2 * i + 3, 2 * j : 2 * j + 3, :]
            want[i, j] = np.tensordot(patch, kernel, axes=([0, 1, 2], [0, 1, 2]))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
