"""Backend-agnostic tensor functions of LFI-CAM (METHOD.md section 2).

Written in `keras.ops` only, so the layers that call them run on TensorFlow,
JAX and PyTorch. The edge cases (constant or all-zero channels, constant
maps) are handled with `where` and a safe denominator: the values are exactly
those of the formulas, and neither the values nor the gradients are ever NaN.
"""

from keras import ops


def _safe_range(minimum, maximum):
    """`(max - min, max - min > 0)`, with 1 in place of a zero range.

    The 1 only feeds the branch that `where` discards, so it changes no value
    and keeps the discarded division (and its gradient) finite.
    """
    value_range = maximum - minimum
    positive = value_range > 0
    return ops.where(positive, value_range, ops.ones_like(value_range)), positive


def normalize_feature_maps(features):
    """Min-max normalise each channel of each image over its positions: s(F).

    s(F) = (F - min) / (max - min), per image and per channel over the h * w
    positions, with the edge cases of METHOD.md section 2 step 3:

    - a channel that is constant and non-zero gives 1 everywhere;
    - a position where the raw F is exactly 0 gives 0 (so an all-zero channel
      is 0). Post-ReLU features have min 0, where the formula gives 0 anyway;
      the rule only changes positions of channels with negative values.

    Args:
        features: tensor of shape `(batch_size, height, width, channels)`.

    Returns:
        A tensor of the same shape and dtype with values in [0, 1].
    """
    minimum = ops.min(features, axis=(1, 2), keepdims=True)
    maximum = ops.max(features, axis=(1, 2), keepdims=True)
    denominator, positive = _safe_range(minimum, maximum)
    scaled = ops.where(
        positive, (features - minimum) / denominator, ops.ones_like(features)
    )
    return ops.where(features == 0, ops.zeros_like(scaled), scaled)


def normalize_attention_map(maps):
    """Min-max normalise each map over its positions: A from L.

    A = (L - min L) / (max L - min L) per image over all positions (and the
    trailing channel axis of size 1). Where L is constant over space, A = L
    (METHOD.md section 2 step 6, the authors' behaviour).

    Args:
        maps: tensor of shape `(batch_size, height, width, 1)`.

    Returns:
        A tensor of the same shape and dtype.
    """
    minimum = ops.min(maps, axis=(1, 2, 3), keepdims=True)
    maximum = ops.max(maps, axis=(1, 2, 3), keepdims=True)
    denominator, positive = _safe_range(minimum, maximum)
    return ops.where(positive, (maps - minimum) / denominator, maps)


def grey_image_at(images, size):
    """Grey version of `images`, bilinearly resized to `size`: g.

    The mean over the 3 channels (no luminance weights), resized with bilinear
    interpolation, half-pixel centres and no antialiasing (METHOD.md section 2
    step 2).

    Args:
        images: tensor of shape `(batch_size, height, width, 3)`, already
            preprocessed for the backbone.
        size: `(h, w)` of the feature maps.

    Returns:
        A tensor of shape `(batch_size, h, w, 1)`.
    """
    grey = ops.mean(images, axis=-1, keepdims=True)
    return ops.image.resize(
        grey, tuple(size), interpolation="bilinear", antialias=False
    )


def importance_weighted_map(features, importance):
    """The LFI-CAM map A = minmax(ReLU(sum_k w_k F_k)).

    The channel sum is one contraction, never a loop over channels.

    Args:
        features: raw feature maps, `(batch_size, height, width, channels)`.
        importance: FIN weights, `(batch_size, channels)`.

    Returns:
        A tensor of shape `(batch_size, height, width, 1)`.
    """
    weighted = ops.einsum("bhwk,bk->bhw", features, importance)
    return normalize_attention_map(ops.relu(weighted)[..., None])


def residual_attention(features, attention):
    """F' = (1 + A) * F, with A broadcast over the channels."""
    return (1 + attention) * features


def conv3x3_as_matmul(inputs, kernel):
    """A 3x3 'same' convolution, stride 1, no bias, as one matrix product.

    The nine shifted views of the zero-padded input are concatenated along
    the channels (im2col: `(batch, h, w, 9 * C_in)`, tap-major as the kernel
    `(3, 3, C_in, C_out)` is laid out) and multiplied by the kernel reshaped
    to `(9 * C_in, C_out)`. The same sum as `keras.ops.conv`, in another
    order. On CPUs it is faster for wide kernels on small maps, where
    TensorFlow's convolution (its filter gradient above all) runs far below
    the machine's matrix-product speed: FIN convolutions of 1024 and 2048
    channels on 8x8 and 7x7 maps train 1.6-1.9x faster this way
    (`benchmarks/fin_conv.py`, docs/PERFORMANCE.md); for narrower ones the
    convolution is faster.

    Args:
        inputs: `(batch_size, height, width, C_in)`.
        kernel: `(3, 3, C_in, C_out)`.

    Returns:
        `(batch_size, height, width, C_out)`.
    """
    shape = ops.shape(inputs)
    height, width = shape[1], shape[2]
    padded = ops.pad(inputs, [[0, 0], [1, 1], [1, 1], [0, 0]])
    columns = ops.concatenate(
        [
            padded[:, i : i + height, j : j + width, :]
            for i in range(3)
            for j in range(3)
        ],
        axis=-1,
    )
    c_in, c_out = kernel.shape[2], kernel.shape[3]
    # One (batch * h * w, 9 C_in) x (9 C_in, C_out) product, not a batch of
    # w-row ones.
    outputs = ops.matmul(
        ops.reshape(columns, (-1, 9 * c_in)), ops.reshape(kernel, (9 * c_in, c_out))
    )
    return ops.reshape(outputs, (-1, height, width, c_out))
