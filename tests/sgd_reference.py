"""PyTorch's SGD update rule written out in numpy (float32), and a tiny
model whose gradients numpy can compute, for the optimizer tests.

`torch.optim.SGD(params, lr, momentum, dampening=0, weight_decay, nesterov)`
does, for each parameter `w` with gradient `g` at each step
(https://pytorch.org/docs/stable/generated/torch.optim.SGD.html):

    d = g + weight_decay * w
    buf = d                      (first step)
    buf = momentum * buf + d     (later steps)
    d = d + momentum * buf if nesterov else buf
    w = w - lr * d

`decoupled=True` replaces the first line by `w = w - lr * weight_decay * w`
(before the update, with the same lr) and `d = g`: SGDW, Keras' rule.
"""

import keras
import numpy as np

#: Steps of the comparisons.
STEPS = 50


class TorchSGD:
    """The state of PyTorch's SGD over a list of numpy weights.

    Args:
        weights: list of arrays, copied to float32.
        momentum, weight_decay: floats.
        nesterov: bool.
        decoupled: bool. SGDW's decay instead of PyTorch's L2.
    """

    def __init__(
        self, weights, momentum, weight_decay, nesterov=False, decoupled=False
    ):
        self.weights = [np.array(w, np.float32) for w in weights]
        self.buffers = [None] * len(self.weights)
        self.momentum = np.float32(momentum)
        self.weight_decay = np.float32(weight_decay)
        self.nesterov = nesterov
        self.decoupled = decoupled

    def step(self, grads, lr):
        """One step with `grads` (arrays; None skips the weight) at rate `lr`."""
        lr = np.float32(lr)
        for i, (w, g) in enumerate(zip(self.weights, grads)):
            if g is None:
                continue
            d = np.asarray(g, np.float32)
            if self.decoupled:
                w = w - lr * self.weight_decay * w
            else:
                d = d + self.weight_decay * w
            if self.momentum:
                if self.buffers[i] is None:
                    self.buffers[i] = d
                else:
                    self.buffers[i] = self.momentum * self.buffers[i] + d
                d = (
                    d + self.momentum * self.buffers[i]
                    if self.nesterov
                    else self.buffers[i]
                )
            self.weights[i] = (w - lr * d).astype(np.float32)
        return self.weights


def softmax_cross_entropy_grads(x, labels, kernel, bias):
    """Gradients of the mean sparse softmax cross-entropy of `x @ kernel + bias`."""
    logits = x @ kernel + bias
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1.0
    p /= len(labels)
    return x.T @ p, p.sum(axis=0)


def linear_problem(n=16, features=4, classes=3, seed=0):
    """`(x, labels, weights)`: data and initial `[kernel, bias, idle kernel,
    idle bias]` for `linear_model`."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    labels = rng.integers(0, classes, n).astype(np.int32)
    weights = [
        rng.normal(size=(features, classes)).astype(np.float32),
        rng.normal(size=classes).astype(np.float32),
        rng.normal(size=(features, classes)).astype(np.float32),
        rng.normal(size=classes).astype(np.float32),
    ]
    return x, labels, weights


def linear_model(weights, features=4, classes=3, idle_only=False):
    """`{"logits": x @ kernel + bias + 0 * (x @ idle_kernel + idle_bias)}`.

    The "idle" dense layer gets zero gradients (not None): only the weight
    decay moves it. `idle_only=True` multiplies the first layer by 0 too, so
    that every gradient is zero.
    """
    inputs = keras.Input((features,))
    dense = keras.layers.Dense(classes, name="dense")(inputs)
    idle = keras.layers.Dense(classes, name="idle")(inputs)
    if idle_only:
        dense = keras.ops.multiply(dense, 0.0)
    logits = keras.layers.Add(name="logits", dtype="float32")(
        [dense, keras.ops.multiply(idle, 0.0)]
    )
    model = keras.Model(inputs, {"logits": logits})
    model.get_layer("dense").set_weights(weights[:2])
    model.get_layer("idle").set_weights(weights[2:])
    return model


def linear_weights(model):
    """`[kernel, bias, idle kernel, idle bias]` of a `linear_model`."""
    return (
        model.get_layer("dense").get_weights() + model.get_layer("idle").get_weights()
    )


def linear_model_grads(x, labels, weights, idle_only=False):
    """numpy gradients of `linear_model`'s mean cross-entropy at `weights`."""
    kernel, bias, idle_kernel, idle_bias = weights
    if idle_only:
        grads = [np.zeros_like(kernel), np.zeros_like(bias)]
    else:
        grads = list(softmax_cross_entropy_grads(x, labels, kernel, bias))
    return grads + [np.zeros_like(idle_kernel), np.zeros_like(idle_bias)]


def step_schedule():
    """0.1, then x0.1 twice: a rate step is where the momentum forms differ."""
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [19, 34], [0.1, 0.01, 0.001]
    )


def formula_fit(x, labels, weights, schedule, idle_only=False, **options):
    """`linear_model`'s weights after `STEPS` PyTorch steps (`TorchSGD`
    options) on batches `x[:8]`, `x[8:16]`, `x[:8]`, ... of 16 examples."""
    reference = TorchSGD(weights, **options)
    for step in range(STEPS):
        batch = slice(0, 8) if step % 2 == 0 else slice(8, 16)
        grads = linear_model_grads(
            x[batch], labels[batch], reference.weights, idle_only=idle_only
        )
        reference.step(grads, float(schedule(step)))
    return reference.weights
