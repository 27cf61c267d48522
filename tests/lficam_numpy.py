"""An independent numpy implementation of METHOD.md section 2, for tests.

Written from the method text with explicit loops, not from the package's code:
the layers are checked against it on small hand-made tensors.
"""

import numpy as np


def normalize_feature_maps(F):
    """s(F) per image and channel; constant non-zero -> 1, raw zero -> 0."""
    B, h, w, K = F.shape
    out = np.zeros_like(F, dtype=np.float64)
    for b in range(B):
        for k in range(K):
            channel = F[b, :, :, k].astype(np.float64)
            lo, hi = channel.min(), channel.max()
            for i in range(h):
                for j in range(w):
                    if channel[i, j] == 0:
                        out[b, i, j, k] = 0.0
                    elif hi > lo:
                        out[b, i, j, k] = (channel[i, j] - lo) / (hi - lo)
                    else:
                        out[b, i, j, k] = 1.0
    return out


def resize_bilinear_half_pixel(image, out_h, out_w):
    """Bilinear resize of (H, W) with half-pixel centres, no antialiasing."""
    in_h, in_w = image.shape

    def taps(out_size, in_size):
        scale = in_size / out_size
        result = []
        for o in range(out_size):
            src = (o + 0.5) * scale - 0.5
            floor = np.floor(src)
            lower = int(max(floor, 0))
            upper = int(min(np.ceil(src), in_size - 1))
            result.append((lower, upper, src - floor))
        return result

    out = np.zeros((out_h, out_w))
    for i, (y0, y1, dy) in enumerate(taps(out_h, in_h)):
        for j, (x0, x1, dx) in enumerate(taps(out_w, in_w)):
            top = image[y0, x0] * (1 - dx) + image[y0, x1] * dx
            bottom = image[y1, x0] * (1 - dx) + image[y1, x1] * dx
            out[i, j] = top * (1 - dy) + bottom * dy
    return out


def grey_at(images, h, w):
    B = images.shape[0]
    grey = images.astype(np.float64).mean(axis=-1)
    return np.stack([resize_bilinear_half_pixel(grey[b], h, w) for b in range(B)])[
        ..., None
    ]


def conv3x3_same(x, kernel):
    """x (B, h, w, Cin), kernel (3, 3, Cin, Cout), zero padding 1, no bias."""
    B, h, w, cin = x.shape
    cout = kernel.shape[-1]
    padded = np.zeros((B, h + 2, w + 2, cin))
    padded[:, 1:-1, 1:-1] = x
    out = np.zeros((B, h, w, cout))
    for b in range(B):
        for i in range(h):
            for j in range(w):
                patch = padded[b, i : i + 3, j : j + 3, :]
                for o in range(cout):
                    out[b, i, j, o] = np.sum(patch * kernel[:, :, :, o])
    return out


def batch_norm_inference(x, gamma, beta, mean, var, eps=1e-5):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def conv_same(x, kernel):
    """A 3x3 (`conv3x3_same`) or 1x1 (a product over the channels) convolution."""
    if kernel.shape[:2] == (1, 1):
        return x @ kernel[0, 0]
    return conv3x3_same(x, kernel)


def fin(F, images, kernels, bns, relu="paired"):
    """FIN in inference mode. bns: list of (gamma, beta, moving_mean, moving_var).
    Kernels are 3x3 (the paper's FIN) or 1x1 (a bottleneck's first and last)."""
    x = normalize_feature_maps(F) * grey_at(images, F.shape[1], F.shape[2])
    for index, (kernel, bn) in enumerate(zip(kernels, bns)):
        x = batch_norm_inference(conv_same(x, kernel), *bn)
        if relu == "every" or index % 2 == 1:
            x = np.maximum(x, 0)
    pooled = x.mean(axis=(1, 2))
    e = np.exp(pooled - pooled.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_map(F, weights):
    """A = minmax(ReLU(sum_k w_k F_k)); a constant map stays as it is."""
    B, h, w, K = F.shape
    A = np.zeros((B, h, w, 1))
    for b in range(B):
        L = np.zeros((h, w))
        for k in range(K):
            L += weights[b, k] * F[b, :, :, k]
        L = np.maximum(L, 0)
        if L.max() > L.min():
            L = (L - L.min()) / (L.max() - L.min())
        A[b, :, :, 0] = L
    return A


def residual_attention(F, A):
    return (1.0 + A) * F
