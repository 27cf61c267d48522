"""The CAM formulas of issue 21 in numpy, on activations and gradients taken
with `tf.GradientTape` outside the package, for the formula tests.

`probe` reads a layer's activations A (B, h, w, K) and the gradient
g = d y_c / d A of the class logits from a plain `keras.Model` of the
layer's output and the model's output (no `lficam_tf` code involved); each
function below turns them into the low-resolution map, ReLU included,
before up-sampling, exactly as the docstrings of `lficam_tf.explain.cams`
state it.
"""

import keras
import numpy as np
import tensorflow as tf


def probe(model, layer, images, class_index, transform=None):
    """`(A, g, logits)` as float64 numpy; `transform` maps tokens to a grid."""
    features = keras.Model(model.inputs, [model.get_layer(layer).output, model.output])
    images = tf.convert_to_tensor(images, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(images)
        activations, logits = features(images)
        selected = tf.gather(logits, class_index, batch_dims=1)
    gradients = tape.gradient(selected, activations)
    a, g = activations.numpy().astype("float64"), gradients.numpy().astype("float64")
    if transform is not None:
        a, g = transform(a), transform(g)
    return a, g, logits.numpy().astype("float64")


def vit_grid(tokens):
    """Drop the class token, reshape the patch tokens to a square grid."""
    b, n, c = tokens.shape
    side = int(round((n - 1) ** 0.5))
    return tokens[:, 1:].reshape(b, side, side, c)


def relu(x):
    return np.maximum(x, 0.0)


def weighted_sum(a, weights):
    """ReLU(sum_k alpha_k A_k)."""
    return relu(np.einsum("bhwk,bk->bhw", a, weights))


def gradcam(a, g):
    return weighted_sum(a, g.mean(axis=(1, 2)))


def hirescam(a, g):
    return relu((g * a).sum(axis=-1))


def gradcam_elementwise(a, g):
    return relu(relu(g * a).sum(axis=-1))


def xgradcam(a, g):
    alpha = (g * a).sum(axis=(1, 2)) / (a.sum(axis=(1, 2)) + 1e-7)
    return weighted_sum(a, alpha)


def layercam(a, g):
    return relu((relu(g) * a).sum(axis=-1))


def projection(w):
    """First principal component of (h*w, K) with centred columns; its sign
    makes it correlate positively with the channel mean of `w`. No ReLU."""
    b, h, wd, k = w.shape
    out = np.zeros((b, h, wd))
    for i in range(b):
        m = w[i].reshape(h * wd, k)
        centred = m - m.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        p = centred @ vt[0]
        reference = m.mean(axis=1)
        if np.sum(p * (reference - reference.mean())) < 0:
            p = -p
        out[i] = p.reshape(h, wd)
    return out


def eigencam(a, g=None):
    return relu(projection(a))


def eigengradcam(a, g):
    return relu(projection(g * a))


def gradcam_eigen_smooth(a, g):
    return relu(projection(a * g.mean(axis=(1, 2))[:, None, None, :]))


def ablationcam(a, scores_of, class_index):
    """alpha_k = (y_c - y_c(A with channel k = 0)) / y_c; `scores_of(A)`
    computes the logits from the layer's activations, by hand."""
    rows = np.arange(len(a))
    original = scores_of(a)[rows, class_index]
    alpha = np.zeros(a.shape[::3])
    for k in range(a.shape[-1]):
        ablated = a.copy()
        ablated[..., k] = 0.0
        alpha[:, k] = (original - scores_of(ablated)[rows, class_index]) / original
    return weighted_sum(a, alpha)


#: The single-pass methods and their formulas, by `explain` method name.
FORMULAS = {
    "gradcam": gradcam,
    "hirescam": hirescam,
    "gradcam-elementwise": gradcam_elementwise,
    "xgradcam": xgradcam,
    "layercam": layercam,
    "eigencam": eigencam,
    "eigengradcam": eigengradcam,
}
