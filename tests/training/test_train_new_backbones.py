"""`train_tf.py --backbone NAME` on the CIFAR DenseNet-BC and ResNeXt: one
epoch at a reduced size (16x16 images, 4x4 feature maps), run in-process
through the same `main` that the script calls."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from lficam_tf.training.cli import build_parser, main

SMALL = [
    "--num-train", "8", "--num-test", "8", "--epochs", "1", "--batch-size", "8",
    "--image-size", "16", "--attention-images", "2", "--verbose", "0",
]  # fmt: skip


def test_help_names_the_new_backbones_and_the_stem_stride_ones():
    text = " ".join(build_parser().format_help().split())
    for name in ("cifar_densenet_bc100", "cifar_resnext29_8x64d", "vgg16/19"):
        assert name in text
    assert "ImageNet-style ResNets (resnet18/34/50/101/152, resnet50v2/101v2)" in text


@pytest.mark.slow
@pytest.mark.parametrize("backbone", ["cifar_densenet_bc100", "cifar_resnext29_8x64d"])
def test_one_epoch_smoke_run(backbone, tmp_path):
    out = tmp_path / "run"
    assert main(SMALL + ["--backbone", backbone, "--output-dir", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["backbone"] == backbone
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and metrics["map_method"] == "lficam"
    assert np.isfinite(metrics["energy_pointing_game"])
    assert (out / "attention.png").read_bytes()[:4] == b"\x89PNG"
    # The TF Serving export answers.
    serve = tf.saved_model.load(str(out / "serving" / "1")).signatures[
        "serving_default"
    ]
    images = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3))
    served = serve(images=tf.constant(images, tf.float32))
    assert served["attention"].shape == (2, 16, 16, 1)
    np.testing.assert_allclose(served["probabilities"].numpy().sum(-1), 1, atol=1e-5)
    if backbone == "cifar_densenet_bc100":
        # The .keras file brings the post-attention block (final BN-ReLU)
        # back, with the statistics of the training step.
        model = keras.models.load_model(out / "model.keras")
        assert np.any(model.post_attention.get_layer("final_bn").moving_mean != 0)
        np.testing.assert_allclose(
            served["probabilities"].numpy(),
            tf.nn.softmax(model(images.astype(np.float32))["logits"]).numpy(),
            atol=1e-5,
        )
