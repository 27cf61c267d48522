"""Weight initialisation shared by our layers and backbones."""

import math

import keras


def he_normal_fan_out():
    """The authors' convolution init: N(0, 2 / (k * k * out_channels)).

    PyTorch's `kaiming_normal_(mode="fan_out")` and the CIFAR ResNet code's
    `normal_(0, sqrt(2 / n))`; Keras' `"he_normal"` differs (fan in, truncated).
    """
    return keras.initializers.VarianceScaling(
        scale=2.0, mode="fan_out", distribution="untruncated_normal"
    )


def torch_linear_kernel():
    """PyTorch's `nn.Linear` weight init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    PyTorch calls `kaiming_uniform_(weight, a=sqrt(5))`: gain
    sqrt(2 / (1 + a^2)) = sqrt(1/3), bound gain * sqrt(3 / fan_in) =
    1 / sqrt(fan_in). Keras' `VarianceScaling(scale, "fan_in", "uniform")`
    draws from U(-sqrt(3 scale / fan_in), +sqrt(3 scale / fan_in)): the same
    bound with scale 1/3. Keras' `Dense` default, Glorot uniform, has bound
    sqrt(6 / (fan_in + fan_out)).
    """
    return keras.initializers.VarianceScaling(
        scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
    )


def torch_linear_bias(fan_in):
    """PyTorch's `nn.Linear` bias init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    A bias initializer only sees the bias' shape, so `fan_in`, the layer's
    number of input features, is given here. Keras' `Dense` default is zeros.

    Args:
        fan_in: int. The layer's input features.
    """
    bound = 1.0 / math.sqrt(fan_in)
    return keras.initializers.RandomUniform(minval=-bound, maxval=bound)
