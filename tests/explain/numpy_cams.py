"""Independent numpy computations for the explain tests.

A tiny classifier whose every step is written out here in numpy:
[per-channel normalisation ("normalize", with `normalize=True`; the model
then names it `preprocessor`, as the package's classifiers do) ->]
1x1 conv (linear, so activations can be negative) -> 2x2 average pooling ("pool", 4x4x4 feature maps) ->
global average pooling -> dense (softmax or linear). Its Grad-CAM,
Grad-CAM++ and Score-CAM maps follow from the papers' formulas by hand:
the gradient of logit c with respect to the pooled maps is W[k, c] / 16 at
every position.
"""

import keras
import numpy as np

SIZE, CHANNELS, CLASSES = 8, 6, 3
#: `tiny_model(normalize=True)`'s normalisation, per channel, in 0..255 units.
MEAN = np.array([125.3, 123.0, 113.9])
STD = np.array([63.0, 62.1, 66.7])


def tiny_model(activation="softmax", seed=0, normalize=False):
    rng = np.random.default_rng(seed)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = inputs
    if normalize:
        normalization = keras.layers.Normalization(
            mean=MEAN, variance=STD**2, name="normalize"
        )
        x = normalization(x)
    x = keras.layers.Conv2D(CHANNELS, 1, name="conv")(x)
    x = keras.layers.AveragePooling2D(2, name="pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(CLASSES, activation=activation, name="head")(x)
    model = keras.Model(inputs, outputs, name="tiny")
    # Colour-difference filters (columns sum to 0): activations of both signs.
    conv_kernel = rng.normal(0, 0.005, (1, 1, 3, CHANNELS))
    conv_kernel = (conv_kernel - conv_kernel.mean(axis=2, keepdims=True)).astype(
        "float32"
    )
    conv_kernel[..., -1] = 0.0  # the last channel is constant: its bias, 0.5
    if normalize:
        conv_kernel *= 60.0  # inputs about 60 times smaller
    conv_bias = np.array([0.2, -0.3, 0.1, -0.2, 0.0, 0.5], "float32")
    dense_kernel = rng.normal(0, 2.0, (CHANNELS, CLASSES)).astype("float32")
    dense_bias = rng.normal(0, 0.1, (CLASSES,)).astype("float32")
    model.get_layer("conv").set_weights([conv_kernel, conv_bias])
    model.get_layer("head").set_weights([dense_kernel, dense_bias])
    if normalize:
        model.preprocessor = normalization
    return model


def preprocess(model, images):
    """The model's input after its normalisation (the images without one)."""
    names = [layer.name for layer in model.layers]
    if "normalize" not in names:
        return images.astype("float64")
    return (images.astype("float64") - MEAN) / STD


def weights_of(model):
    conv_kernel, conv_bias = model.get_layer("conv").get_weights()
    dense_kernel, dense_bias = model.get_layer("head").get_weights()
    return conv_kernel[0, 0], conv_bias, dense_kernel, dense_bias


def network_features(model, inputs):
    """The "pool" activations A, (B, 4, 4, K), from preprocessed inputs."""
    conv_kernel, conv_bias, _, _ = weights_of(model)
    a = inputs.astype("float64") @ conv_kernel + conv_bias
    b, h, w, k = a.shape
    return a.reshape(b, h // 2, 2, w // 2, 2, k).mean(axis=(2, 4))


def features(model, images):
    """The "pool" activations A, (B, 4, 4, K)."""
    return network_features(model, preprocess(model, images))


def network_logits(model, inputs):
    _, _, dense_kernel, dense_bias = weights_of(model)
    pooled = network_features(model, inputs).mean(axis=(1, 2))
    return pooled @ dense_kernel + dense_bias


def logits(model, images):
    return network_logits(model, preprocess(model, images))


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def resize_bilinear(maps, height, width):
    """TF's bilinear resize with half-pixel centres, (B, h, w) -> (B, H, W)."""

    def coordinates(n_out, n_in):
        source = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        source = np.clip(source, 0, n_in - 1)
        low = np.floor(source).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, source - low

    y0, y1, fy = coordinates(height, maps.shape[1])
    x0, x1, fx = coordinates(width, maps.shape[2])
    top = maps[:, y0][:, :, x0] * (1 - fx) + maps[:, y0][:, :, x1] * fx
    bottom = maps[:, y1][:, :, x0] * (1 - fx) + maps[:, y1][:, :, x1] * fx
    return top * (1 - fy)[:, None] + bottom * fy[:, None]


def minmax(maps):
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)


def cam(activations, weights):
    """minmax(upsample(ReLU(sum_k w_k A^k))) at the input size."""
    low_res = np.maximum(np.einsum("bhwk,bk->bhw", activations, weights), 0.0)
    return minmax(resize_bilinear(low_res, SIZE, SIZE))


def gradcam(model, images, class_index):
    _, _, dense_kernel, _ = weights_of(model)
    alpha = dense_kernel[:, class_index].T / 16.0  # (B, K)
    return cam(features(model, images), alpha)


def gradcam_of_probability(model, images, class_index):
    """Grad-CAM of p_c (no softmax stripped): d p_c / d z_j = p_c (d_cj - p_j)."""
    _, _, dense_kernel, _ = weights_of(model)
    p = softmax(logits(model, images))
    rows = np.arange(len(images))
    dp_dz = -p[rows, class_index][:, None] * p
    dp_dz[rows, class_index] += p[rows, class_index]
    alpha = dp_dz @ dense_kernel.T / 16.0
    return cam(features(model, images), alpha)


def gradcam_plus_plus(model, images, class_index):
    _, _, dense_kernel, _ = weights_of(model)
    activations = features(model, images)
    g = dense_kernel[:, class_index].T / 16.0  # constant over the 4x4 positions
    total = activations.sum(axis=(1, 2))
    denominator = 2 * g**2 + total * g**3
    a = np.where(g != 0, g**2 / np.where(denominator != 0, denominator, 1.0), 0.0)
    weights = 16 * a * np.maximum(g, 0.0)
    return cam(activations, weights)


def scorecam(model, images, class_index, top_n=None, masking="preprocessed"):
    """Score-CAM; the masks multiply the preprocessed input (the authors'
    code) or, with `masking="images"`, the images themselves."""
    if masking == "preprocessed":
        inputs, scores = preprocess(model, images), network_logits
    else:
        inputs, scores = images, logits
    activations = features(model, images)
    weights = np.zeros((len(images), CHANNELS))
    for b in range(len(images)):
        channels = range(CHANNELS)
        if top_n is not None:
            variance = activations[b].var(axis=(0, 1))
            channels = np.argsort(-variance, kind="stable")[:top_n]
        for k in channels:
            up = resize_bilinear(activations[b : b + 1, :, :, k], SIZE, SIZE)
            if up.max() == up.min():
                continue
            masked = inputs[b : b + 1] * minmax(up)[..., None]
            weights[b, k] = softmax(scores(model, masked))[0, class_index[b]]
    return cam(activations, weights)
