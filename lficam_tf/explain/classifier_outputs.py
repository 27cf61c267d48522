"""Reading class scores out of any Keras classifier.

The package's classifiers return a dict with `"logits"` (and, for LFI-CAM and
ABN, their own `"attention"` map). A `keras.applications` model, or a user's
Sequential or Functional model, returns one tensor, often after a softmax
(`classifier_activation="softmax"`), sometimes from inside a nested model
(`keras.Sequential([preprocessing, keras.applications.MobileNetV2(...)])`).
Grad-CAM differentiates the class *score before the softmax* (Selvaraju et
al., section 3), so `scores_model` returns a model that ends with the
pre-softmax logits: it drops a final `Softmax` / `Activation("softmax")`
layer, or calls a final `Dense(..., activation="softmax")` without its
activation, also inside nested models. The user's model is not modified.
"""

import dataclasses

import keras

from lficam_tf import graph
from lficam_tf.api_export import lficam_export
from lficam_tf.models.outputs import (
    LOGITS,
    native_method,  # noqa: F401 (public here)
)

_SOFTMAX_NAMES = ("softmax", "softmax_v2")


def _is_softmax(function):
    return getattr(function, "__name__", None) in _SOFTMAX_NAMES


def _softmax_role(layer):
    """How `layer` applies a softmax: "layer" (it is one), "activation", None."""
    if isinstance(layer, keras.layers.Softmax):
        return "layer"
    activation = getattr(layer, "activation", None)
    if activation is None or not _is_softmax(activation):
        return None
    return "layer" if isinstance(layer, keras.layers.Activation) else "activation"


class _WithoutActivation(keras.layers.Layer):
    """Calls `layer` (e.g. a `Dense` with a softmax) without its activation."""

    def __init__(self, layer, **kwargs):
        super().__init__(name=layer.name, **kwargs)
        self.layer = layer

    def call(self, *args, **kwargs):
        activation = self.layer.activation
        self.layer.activation = keras.activations.linear
        try:
            return self.layer(*args, **kwargs)
        finally:
            self.layer.activation = activation


def _single_output(model):
    outputs = model.outputs
    if len(outputs) != 1:
        raise ValueError(
            "`model` must return one tensor of class scores, or a dict with a "
            f"{LOGITS!r} entry. Received: a model with {len(outputs)} outputs "
            f"{[tuple(o.shape) for o in outputs]}. Wrap it so that it returns "
            "the class scores only: keras.Model(model.inputs, model.outputs[i])."
        )
    return outputs[0]


def _input(model):
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def _strip_softmax(model):
    """(model to pre-softmax logits, True) or (model, False) if none found."""
    output = _single_output(model)
    operation, node_index, _ = output._keras_history
    role = _softmax_role(operation)
    if role == "layer":
        node = operation._inbound_nodes[node_index]
        logits = node.input_tensors[0]
        return keras.Model(_input(model), logits, name=f"{model.name}_logits"), True
    if role is None and not isinstance(operation, keras.Model):
        return model, False
    if isinstance(operation, keras.Model):
        inner, stripped = _strip_softmax(graph.as_functional(operation))
        if not stripped:
            return model, False
        inner = keras.Model(_input(inner), inner.outputs[0], name=operation.name)
        replacement = inner
    else:
        replacement = _WithoutActivation(operation)

    def call_function(layer, *args, **kwargs):
        if layer is operation:
            return replacement(*args, **kwargs)
        return layer(*args, **kwargs)

    clone = keras.models.clone_model(
        model, clone_function=lambda layer: layer, call_function=call_function
    )
    return keras.Model(
        _input(clone), clone.outputs[0], name=f"{model.name}_logits"
    ), True


@lficam_export("lficam_tf.explain.ClassifierScores")
@dataclasses.dataclass(frozen=True)
class ClassifierScores:
    """A classifier seen as images -> class scores, and what the scores are.

    Attributes:
        model: `keras.Model` from the images to one tensor of class scores,
            `(batch_size, num_classes)`, sharing the classifier's weights.
        are_probabilities: bool. True when the scores already went through a
            softmax (a `keras.applications` model with `strip_softmax=False`);
            False for logits.
        stripped_softmax: bool. Whether a final softmax was removed.
    """

    model: keras.Model
    are_probabilities: bool
    stripped_softmax: bool


@lficam_export("lficam_tf.explain.scores_model")
def scores_model(model, strip_softmax=True):
    """The classifier as a model from images to its class logits.

    Args:
        model: a Functional or Sequential `keras.Model`: one of the package's
            classifiers (dict outputs, `"logits"` is used), or any model with
            one output of class scores, nested models included.
        strip_softmax: bool. When the output comes from a softmax, explain the
            logits before it (Grad-CAM's choice). With `False`, the softmax
            probabilities are explained as they are. Defaults to `True`.

    Returns:
        A `ClassifierScores`.

    Example:

    >>> import keras
    >>> net = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
    ...     keras.layers.GlobalAveragePooling2D(),
    ...     keras.layers.Dense(2, activation="softmax")])
    >>> scores = scores_model(net)
    >>> scores.stripped_softmax, scores.are_probabilities
    (True, False)
    """
    if not isinstance(strip_softmax, bool):
        raise TypeError(
            f"`strip_softmax` must be a bool. Received: strip_softmax={strip_softmax!r}"
        )
    functional = graph.as_functional(model)
    outputs = functional.output
    if isinstance(outputs, dict):
        if LOGITS not in outputs:
            raise ValueError(
                f"`model` returns a dict, so it must have a {LOGITS!r} entry (the "
                f"class scores before the softmax). Received: keys {sorted(outputs)}"
            )
        view = keras.Model(_input(functional), outputs[LOGITS], name=model.name)
        return ClassifierScores(view, are_probabilities=False, stripped_softmax=False)
    view, stripped = _strip_softmax(functional)
    if not strip_softmax and stripped:
        return ClassifierScores(
            functional, are_probabilities=True, stripped_softmax=False
        )
    return ClassifierScores(view, are_probabilities=False, stripped_softmax=stripped)
