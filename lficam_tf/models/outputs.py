"""The names of a classifier's outputs, and what they say about the model.

Every classifier of the package is a Functional model that returns a dict of
named outputs (so that export and serving see names, not positions):

- `LOGITS` (`"logits"`), `(batch_size, num_classes)`: every head;
- `ATTENTION` (`"attention"`), `(batch_size, h, w, 1)`: the map that
  LFI-CAM (A) and ABN (M) compute in their forward pass;
- `IMPORTANCE` (`"importance"`), `(batch_size, K)`: LFI-CAM's feature
  importance vector;
- `ATTENTION_LOGITS` (`"attention_logits"`), `(batch_size, num_classes)`:
  ABN's attention-branch logits, trained beside `LOGITS`.

This module is the one owner of these names and of the rule that reads
them: `model_kind` says which head a model is, `native_method` which map it
computes itself, `logits` where its class scores are. Explanation, training,
evaluation and export import them instead of testing output names
themselves. Pure Python: it imports neither Keras nor TensorFlow.

>>> import lficam_tf
>>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
>>> model_kind(model), native_method(model)
('lficam', 'lficam')
"""

#: The class scores before the softmax, `(batch_size, num_classes)`.
LOGITS = "logits"
#: The model's own map, `(batch_size, h, w, 1)` (LFI-CAM and ABN).
ATTENTION = "attention"
#: LFI-CAM's feature importance, `(batch_size, K)`.
IMPORTANCE = "importance"
#: ABN's attention-branch logits, `(batch_size, num_classes)`.
ATTENTION_LOGITS = "attention_logits"

#: The outputs of each head of `lficam_tf.build_model`.
HEAD_OUTPUTS = {
    "lficam": (LOGITS, ATTENTION, IMPORTANCE),
    "abn": (LOGITS, ATTENTION_LOGITS, ATTENTION),
    "baseline": (LOGITS,),
}

#: The heads with a map of their own, and the output that tells them apart
#: (both return `ATTENTION`).
_NATIVE_MARKERS = (("lficam", IMPORTANCE), ("abn", ATTENTION_LOGITS))


def _dict_outputs(model):
    """The model's symbolic outputs if they are a dict, else None.

    None too for a model without a graph (a subclassed model that was never
    called), whose outputs cannot be read.
    """
    try:
        if not model.inputs:
            return None
        outputs = model.output
    except (AttributeError, ValueError):
        return None
    return outputs if isinstance(outputs, dict) else None


def model_kind(model):
    """Which kind of classifier `model` is, read off its outputs.

    Args:
        model: a `keras.Model`.

    Returns:
        `"lficam"` (a dict with `"attention"` and `"importance"`), `"abn"`
        (`"attention"` and `"attention_logits"`), `"baseline"` (any other
        dict, e.g. `"logits"` only) or `"keras"` (one tensor, or no graph).
    """
    outputs = _dict_outputs(model)
    if outputs is None:
        return "keras"
    if ATTENTION in outputs:
        for kind, marker in _NATIVE_MARKERS:
            if marker in outputs:
                return kind
    return "baseline"


def native_method(model):
    """`"lficam"`, `"abn"` or None: the map a model computes in its forward pass.

    An LFI-CAM model returns a dict with `"attention"` and `"importance"`; an
    ABN model one with `"attention"` and `"attention_logits"`.
    """
    kind = model_kind(model)
    return kind if kind in ("lficam", "abn") else None


def logits(outputs):
    """The class logits in a classifier's outputs (a dict, or one tensor)."""
    return outputs[LOGITS] if isinstance(outputs, dict) else outputs
