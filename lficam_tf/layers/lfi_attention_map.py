import keras

from lficam_tf import ops as lfi_ops
from lficam_tf.api_export import lficam_export


@lficam_export("lficam_tf.layers.LFIAttentionMap")
class LFIAttentionMap(keras.layers.Layer):
    """The LFI-CAM attention map: the importance-weighted sum of the feature maps.

    A = minmax(ReLU(sum_k w_k F_k)) per image over the h x w positions, with the
    *raw* feature maps F and the FIN weights w (METHOD.md section 2, step 6).
    The sum is one contraction. Where the ReLU'd sum is constant over space, A
    is that constant (the authors' behaviour), never NaN. A is the visual
    explanation; `ResidualAttention` feeds it back as (1 + A) * F.

    Args:
        **kwargs: base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        features: raw feature maps of shape `(batch_size, h, w, K)`.
        importance: channel weights of shape `(batch_size, K)`.

    Returns:
        The attention map of shape `(batch_size, h, w, 1)`, in [0, 1] with
        maximum 1 per image wherever the map is not constant.

    Example:

    >>> import numpy as np
    >>> features = np.random.rand(2, 4, 4, 8).astype("float32")
    >>> weights = np.full((2, 8), 1 / 8, "float32")
    >>> attention = LFIAttentionMap()(features, weights)
    >>> tuple(attention.shape)
    (2, 4, 4, 1)
    >>> float(np.max(attention))
    1.0

    Reference:
        - [Lee et al., LFI-CAM, ICCV 2021](https://arxiv.org/abs/2105.00937)
    """

    def call(self, features, importance):
        return lfi_ops.importance_weighted_map(
            features, keras.ops.cast(importance, features.dtype)
        )

    def compute_output_shape(self, features_shape, importance_shape):
        return tuple(features_shape[:-1]) + (1,)
