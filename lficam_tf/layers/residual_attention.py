import keras

from lficam_tf import ops as lfi_ops
from lficam_tf.api_export import lficam_export


@lficam_export("lficam_tf.layers.ResidualAttention")
class ResidualAttention(keras.layers.Layer):
    """Residual attention: F' = (1 + A) * F, the map broadcast over channels.

    The attention mechanism of LFI-CAM (METHOD.md section 2, step 7) and of the
    Attention Branch Network (section 4). With A = 0 the features pass
    unchanged, so a model with this layer reduces to its plain backbone.

    Args:
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        features: feature maps of shape `(batch_size, h, w, channels)`.
        attention: a map of shape `(batch_size, h, w, 1)`.

    Returns:
        The attended features, of the shape of `features`.

    Example:

    >>> import numpy as np
    >>> features = np.ones((1, 2, 2, 3), "float32")
    >>> attention = np.array([[[[0.0], [1.0]], [[0.5], [0.0]]]], "float32")
    >>> ResidualAttention()(features, attention)[0, :, :, 0].numpy().tolist()
    [[1.0, 2.0], [1.5, 1.0]]

    Reference:
        - [Lee et al., LFI-CAM, ICCV 2021](https://arxiv.org/abs/2105.00937)
        - [Fukui et al., ABN, CVPR 2019](https://arxiv.org/abs/1812.10025)
    """

    def call(self, features, attention):
        if features.shape[1:3] != attention.shape[1:3] and None not in (
            tuple(features.shape[1:3]) + tuple(attention.shape[1:3])
        ):
            raise ValueError(
                "`attention` must have the spatial size of `features`. "
                f"Received: features.shape={features.shape}, "
                f"attention.shape={attention.shape}"
            )
        return lfi_ops.residual_attention(
            features, keras.ops.cast(attention, features.dtype)
        )

    def compute_output_shape(self, features_shape, attention_shape):
        return tuple(features_shape)
