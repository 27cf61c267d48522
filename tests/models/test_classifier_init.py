"""The classifier's dense layer starts as PyTorch's `nn.Linear` does.

PyTorch: weight by `kaiming_uniform_(a=sqrt(5))`, bias uniform in
+-1/sqrt(fan_in). The bound is worked out here from PyTorch's formulas and
compared with what the Keras initializers draw.
"""

import keras
import numpy as np
import pytest

import lficam_tf
from lficam_tf.initializers import torch_linear_bias, torch_linear_kernel
from lficam_tf.models.classifier import classifier_dense


def pytorch_linear_bound(fan_in):
    """torch.nn.init.kaiming_uniform_(w, a=sqrt(5)): bound = gain * sqrt(3 / fan_in)."""
    a = np.sqrt(5.0)
    gain = np.sqrt(2.0 / (1 + a**2))  # calculate_gain("leaky_relu", a)
    return gain * np.sqrt(3.0 / fan_in)


def test_kernel_and_bias_are_uniform_in_the_pytorch_bound():
    fan_in = 48
    bound = pytorch_linear_bound(fan_in)
    np.testing.assert_allclose(bound, 1 / np.sqrt(fan_in))  # bias' bound too
    keras.utils.set_random_seed(0)
    dense = classifier_dense(4096, fan_in)
    dense.build((None, fan_in))
    kernel, bias = dense.kernel.numpy(), dense.bias.numpy()
    for values in (kernel, bias):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.99 * bound  # the whole range is used
        # U(-b, b): mean 0, standard deviation b / sqrt(3).
        assert abs(values.std() / (bound / np.sqrt(3)) - 1) < 0.03
        assert abs(values.mean()) < 0.03 * bound


def test_initializers_serialize():
    for initializer in (torch_linear_kernel(), torch_linear_bias(64)):
        restored = keras.initializers.deserialize(
            keras.initializers.serialize(initializer)
        )
        assert restored.get_config() == initializer.get_config()
    assert torch_linear_bias(64).get_config()["maxval"] == pytest.approx(1 / 8)
    dense = keras.layers.Dense.from_config(classifier_dense(10, 64).get_config())
    assert dense.bias_initializer.get_config()["minval"] == pytest.approx(-1 / 8)


def _tiny_backbone(channels):
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(channels, 3, strides=4, padding="same")(inputs)
    return keras.Model(inputs, x)


@pytest.mark.parametrize("head", ["lficam", "baseline", "abn"])
def test_every_head_uses_it_with_the_pooled_channels_as_fan_in(head):
    keras.utils.set_random_seed(1)
    if head == "abn":  # perception stage of the CIFAR ResNet-20: 64 channels
        model = lficam_tf.build_model("cifar_resnet20", 50, (16, 16, 3), head=head)
        fan_in = 64
    else:
        fan_in = 36
        model = lficam_tf.build_model(_tiny_backbone(fan_in), 50, head=head)
    kernel = model.get_layer("classifier").kernel.numpy()
    bias = model.get_layer("classifier").bias.numpy()
    assert kernel.shape == (fan_in, 50)
    bound = pytorch_linear_bound(fan_in)
    for values in (kernel, bias):
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.8 * bound
