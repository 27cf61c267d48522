import keras

from lficam_tf.api_export import lficam_export


@lficam_export("lficam_tf.layers.ReverseChannels")
class ReverseChannels(keras.layers.Layer):
    """Reverse the channel axis: RGB to BGR.

    The "caffe" preprocessing of `keras.applications` ResNet and VGG models
    expects BGR; our models take RGB, so this layer sits before their mean
    subtraction (a `keras.layers.Normalization`).

    Call arguments:
        images: tensor of shape `(batch_size, height, width, channels)`.

    Example:

    >>> import numpy as np
    >>> ReverseChannels()(np.array([[[[1.0, 2.0, 3.0]]]])).numpy().tolist()
    [[[[3.0, 2.0, 1.0]]]]
    """

    def call(self, images):
        return keras.ops.flip(images, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
