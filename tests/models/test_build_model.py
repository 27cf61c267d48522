"""build_model's options and every error message it promises."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import lficam_tf


def test_default_model_and_named_outputs():
    model = lficam_tf.build_model()
    assert isinstance(model, lficam_tf.LFICAMClassifier)
    assert model.inputs[0].shape[1:] == (32, 32, 3)
    assert sorted(model.output) == ["attention", "importance", "logits"]
    assert model.backbone.name == "cifar_resnet20"


def test_heads_give_their_classes_and_outputs():
    abn = lficam_tf.build_model("cifar_resnet20", 4, head="abn")
    assert isinstance(abn, lficam_tf.ABNClassifier)
    assert sorted(abn.output) == ["attention", "attention_logits", "logits"]
    # M is at the extractor's resolution (the stage before last: 16x16).
    assert tuple(abn.output["attention"].shape) == (None, 16, 16, 1)
    baseline = lficam_tf.build_model("cifar_resnet20", 4, head="baseline")
    assert isinstance(baseline, lficam_tf.BaselineClassifier)
    assert list(baseline.output) == ["logits"]


@pytest.mark.parametrize("head", ["abn", "baseline"])
@pytest.mark.parametrize(
    "option", [{"fin_depth": 2}, {"fin_relu": "every"}, {"fin_width": 8}]
)
def test_fin_options_are_refused_with_another_head(head, option):
    # Not silently ignored: the other heads have no FIN.
    with pytest.raises(
        ValueError,
        match=rf"apply to head='lficam' only: the '{head}' head has no Feature "
        r"Importance Network.*Drop them, or pass head='lficam'\.",
    ):
        lficam_tf.build_model("cifar_resnet20", 3, head=head, **option)


def test_fin_options_at_their_defaults_are_fine_with_another_head():
    model = lficam_tf.build_model(
        "cifar_resnet20", 3, head="baseline", fin_depth=4, fin_relu="paired"
    )
    assert "logits" in model.output


@pytest.mark.parametrize(
    "option, error, match",
    [
        ({"fin_depth": 0}, ValueError, r"`fin_depth` must be at least 1"),
        ({"fin_width": 2.0}, TypeError, r"`fin_width` must be an int or None"),
    ],
)
def test_bad_fin_options_are_named(option, error, match):
    with pytest.raises(error, match=match):
        lficam_tf.build_model("cifar_resnet20", 3, **option)


def test_fin_options_reach_the_layer():
    model = lficam_tf.build_model(
        "cifar_resnet20", 3, fin_depth=2, fin_relu="every", fin_width=8
    )
    fin = model.get_layer("feature_importance")
    assert (fin.depth, fin.relu, fin.width) == (2, "every", 8)


def test_preprocessing_presets_reproduce_keras_applications():
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)).astype(np.float32)
    for name, module in [
        ("resnet50", keras.applications.resnet),
        ("mobilenetv2", keras.applications.mobilenet_v2),
        ("densenet121", keras.applications.densenet),
        ("vgg16", keras.applications.vgg16),
    ]:
        model = lficam_tf.build_model(name, 2, input_shape=(64, 64, 3), head="baseline")
        ours = keras.ops.convert_to_numpy(model.preprocessor(images))
        np.testing.assert_allclose(
            ours, module.preprocess_input(images.copy()), atol=1e-4
        )
    # EfficientNet and ConvNeXt normalise inside the Keras model.
    assert (
        lficam_tf.build_model("efficientnetb0", 2, input_shape=(64, 64, 3)).preprocessor
        is None
    )
    # CIFAR presets: the authors' mean and std.
    cifar = lficam_tf.build_model("cifar_resnet20", 2)
    pixel = np.full((1, 32, 32, 3), 128.0, np.float32)
    expected = (128 / 255 - np.array([0.4914, 0.4822, 0.4465])) / np.array(
        [0.2023, 0.1994, 0.2010]
    )
    np.testing.assert_allclose(cifar.preprocessor(pixel)[0, 0, 0], expected, rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"head": "gradcam"},
            ValueError,
            r"`head` must be one of \('lficam', 'abn', 'baseline'\)",
        ),
        ({"num_classes": 0}, ValueError, "`num_classes` must be at least 1"),
        ({"num_classes": 10.0}, TypeError, "`num_classes` must be an int"),
        (
            {"input_shape": (32, 32)},
            ValueError,
            r"`input_shape` must be \(height, width, 3\)",
        ),
        (
            {"input_shape": (32, 32, 1)},
            ValueError,
            "`input_shape` must have 3 channels",
        ),
        ({"input_shape": (None, None, 3)}, ValueError, "fixed input size"),
        (
            {"weights": 3},
            TypeError,
            "`weights` must be None, 'imagenet', the name of the package's trained classifiers",
        ),
        ({"preprocessing": "bgr"}, ValueError, "`preprocessing` must be one of"),
        (
            {"feature_layer": "stem"},
            ValueError,
            "`feature_layer` is for a user's keras.Model",
        ),
        ({"fin_relu": "none"}, ValueError, "`fin_relu` must be one of"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        lficam_tf.build_model("cifar_resnet20", **{"num_classes": 3, **kwargs})


def test_input_too_small_for_a_2x2_feature_map():
    with pytest.raises(
        ValueError,
        match=r"gives a 1x1 feature map on backbone 'resnet50'.*at least 64x64",
    ):
        lficam_tf.build_model("resnet50", 2, input_shape=(32, 32, 3))
    with pytest.raises(
        ValueError,
        match=r"gives a 1x1 feature map on backbone 'cifar_resnet20'.*at least 8x8",
    ):
        lficam_tf.build_model("cifar_resnet20", 2, input_shape=(4, 4, 3))
    with pytest.raises(ValueError, match=r"backbone 'resnet18'.*at least 32x32"):
        lficam_tf.build_model("resnet18", 2, input_shape=(16, 16, 3), stem_stride=1)


def test_abn_only_on_backbones_that_support_it():
    with pytest.raises(
        ValueError,
        match=r"head='abn' is not available on backbone 'vgg16'.*Backbones with ABN: \[.*'cifar_resnet20'",
    ):
        lficam_tf.build_model("vgg16", 2, head="abn", input_shape=(64, 64, 3))


def test_calling_with_wrong_images_says_how_to_fix_them():
    model = lficam_tf.build_model("cifar_resnet20", 2)
    with pytest.raises(ValueError, match=r"add a batch axis: images\[None\]"):
        model(np.zeros((32, 32, 3)))
    with pytest.raises(
        ValueError, match=r"must have 3 channels.*np.repeat\(images, 3, axis=-1\)"
    ):
        model(np.zeros((1, 32, 32, 1)))
    with pytest.raises(ValueError, match=r"must be 32x32.*keras.ops.image.resize"):
        model(np.zeros((1, 64, 64, 3)))
    with pytest.raises(ValueError, match="must have 3 channels"):
        model.predict(np.zeros((2, 32, 32, 4)), verbose=0)


def test_summary_is_one_row_per_component():
    lines = []
    lficam_tf.build_model("resnet50", 10, input_shape=(64, 64, 3)).summary(
        print_fn=lines.append
    )
    text = "\n".join(lines)
    for name in ["preprocessing_caffe", "resnet50", "feature_importance", "attention_map",
                 "residual_attention", "pooling", "classifier"]:  # fmt: skip
        assert name in text
    assert "conv2_block1" not in text  # the backbone is one row, not 175
    assert len(text.splitlines()) < 60


# --- weights ---------------------------------------------------------------


def test_backbone_weights_file_round_trip(tmp_path):
    source = lficam_tf.build_model("cifar_resnet20", 3)
    path = str(tmp_path / "backbone.weights.h5")
    source.backbone.save_weights(path)
    loaded = lficam_tf.build_model("cifar_resnet20", 3, weights=path)
    for a, b in zip(source.backbone.get_weights(), loaded.backbone.get_weights()):
        np.testing.assert_array_equal(a, b)
    abn = lficam_tf.build_model("cifar_resnet20", 3, weights=path, head="abn")
    np.testing.assert_array_equal(
        abn.extractor.get_layer("stem_conv").kernel.numpy(),
        source.backbone.get_layer("stem_conv").kernel.numpy(),
    )
    np.testing.assert_array_equal(
        abn.perception_stage.get_layer("stage3_block3_2_conv").kernel.numpy(),
        source.backbone.get_layer("stage3_block3_2_conv").kernel.numpy(),
    )
    # keras.applications take the file through Keras' own `weights=path`.
    app = keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(64, 64, 3)
    )
    app_path = str(tmp_path / "mobilenet.weights.h5")
    app.save_weights(app_path)
    model = lficam_tf.build_model(
        "mobilenetv2", 3, input_shape=(64, 64, 3), weights=app_path
    )
    np.testing.assert_array_equal(
        model.backbone.get_layer("Conv1").kernel.numpy(),
        app.get_layer("Conv1").kernel.numpy(),
    )


def test_missing_and_mismatched_weights_files(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="Weights file not found: '/nope.weights.h5'"
    ):
        lficam_tf.build_model("cifar_resnet20", 3, weights="/nope.weights.h5")
    with pytest.raises(FileNotFoundError, match="Weights file not found"):
        lficam_tf.build_model(
            "mobilenetv2", 3, input_shape=(64, 64, 3), weights="/nope.h5"
        )
    other = str(tmp_path / "r32.weights.h5")
    lficam_tf.get_backbone_spec("cifar_resnet32").build().save_weights(other)
    with pytest.raises(
        ValueError, match="does not match backbone 'cifar_resnet20'.*same architecture"
    ):
        lficam_tf.build_model("cifar_resnet20", 3, weights=other)
    with pytest.raises(ValueError, match="does not match backbone 'mobilenetv2'"):
        lficam_tf.build_model("mobilenetv2", 3, input_shape=(64, 64, 3), weights=other)
    with pytest.raises(ValueError, match="has no ImageNet weights"):
        lficam_tf.build_model("resnet18", 3, weights="imagenet")


def test_imagenet_weights_offline_fail_with_a_message_that_says_so(tmp_path):
    """A real download attempt in a subprocess whose network is cut (dead proxy)."""
    code = textwrap.dedent(
        """
        import lficam_tf
        try:
            lficam_tf.build_model("resnet50", 3, input_shape=(64, 64, 3), weights="imagenet")
        except ConnectionError as error:
            print("CONNECTION_ERROR", error)
        """
    )
    env = dict(
        os.environ,
        KERAS_HOME=str(tmp_path),  # empty cache: Keras must download
        https_proxy="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        "CONNECTION_ERROR Could not download the ImageNet weights of 'resnet50'"
        in result.stdout
    ), result.stderr[-2000:]
    assert "offline" in result.stdout and "weights=None" in result.stdout
