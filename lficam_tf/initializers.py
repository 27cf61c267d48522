"""Weight initialisation shared by our layers and backbones."""

import keras


def he_normal_fan_out():
    """The authors' convolution init: N(0, 2 / (k * k * out_channels)).

    PyTorch's `kaiming_normal_(mode="fan_out")` and the CIFAR ResNet code's
    `normal_(0, sqrt(2 / n))`; Keras' `"he_normal"` differs (fan in, truncated).
    """
    return keras.initializers.VarianceScaling(
        scale=2.0, mode="fan_out", distribution="untruncated_normal"
    )
