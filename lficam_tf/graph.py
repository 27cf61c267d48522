"""Reading intermediate feature maps out of any Keras model.

`feature_model(model, "block5_conv3")` returns a model from the same inputs
to that layer's output (and, on request, to the model's output too), sharing
the original layers and weights. It works for Functional and Sequential
models and for layers inside nested models ("base/conv5_block3_out", or just
"conv5_block3_out" when the name is unique), which is where the
"Graph disconnected" error of `keras.Model(model.input, inner.output)` comes
from: the inner layer's output tensor belongs to the nested model's own graph.
Here the outer graph is re-run with `keras.models.clone_model`, reusing every
layer, and the nested model is replaced by a view that also returns the inner
feature map.
"""

import keras


def _unwrap(tensors):
    return tensors[0] if len(tensors) == 1 else tensors


def as_functional(model):
    """`model` as a Functional model (a Sequential one is wrapped, sharing layers).

    Raises:
        ValueError: for a Sequential model that is not built yet.
        TypeError: for a subclassed model, which has no graph to read.
    """
    if isinstance(model, keras.Sequential):
        if not model.built or not model.inputs:
            raise ValueError(
                f"`model` must be built: Sequential model {model.name!r} is not "
                "built yet. Give it a `keras.Input(shape)` as its first layer or "
                "call it once on a batch of images."
            )
        return keras.Model(
            _unwrap(model.inputs), _unwrap(model.outputs), name=model.name
        )
    if not isinstance(model, keras.Model) or not hasattr(model, "_nodes_by_depth"):
        raise TypeError(
            "`model` must be a Functional or Sequential keras.Model (a subclassed "
            f"model has no graph to read a layer from). Received: {type(model).__name__}"
        )
    return model


def _nested_paths(model, prefix=""):
    """All layer paths of `model`, nested models included, in graph order."""
    paths = []
    for layer in model.layers:
        path = prefix + layer.name
        paths.append(path)
        if isinstance(layer, keras.Model):
            paths.extend(_nested_paths(layer, path + "/"))
    return paths


def resolve_layer_path(model, layer):
    """The full path of `layer` in `model` ("outer/inner" for nested models).

    A bare name that is not a top-level layer is looked up in the nested
    models; it must be unique there.
    """
    paths = _nested_paths(model)
    if layer in paths:
        return layer
    matches = [p for p in paths if p.rsplit("/", 1)[-1] == layer]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ValueError(
            f"Layer name {layer!r} is ambiguous in model {model.name!r}: "
            f"{matches}. Pass the full path."
        )
    rank4 = [p for p in paths if _output_rank(model, p) == 4]
    raise ValueError(
        f"Model {model.name!r} has no layer {layer!r}. Layers with 4-D outputs "
        f"(feature maps), last ones first: {rank4[::-1][:12]}. Nested layers are "
        "named 'outer/inner'."
    )


def _get(model, path):
    for name in path.split("/"):
        model = model.get_layer(name)
    return model


def _output_rank(model, path):
    try:
        return len(_get(model, path).output.shape)
    except (AttributeError, ValueError):
        return None


def last_feature_layer(model):
    """Path of the last layer with a 4-D output, nested models included.

    Post-hoc CAM libraries' usual default target layer: the last feature map
    before pooling.
    """
    as_functional(model)  # A clear error for unbuilt or subclassed models.
    for path in reversed(_nested_paths(model)):
        layer = _get(model, path)
        if isinstance(layer, (keras.Model, keras.layers.InputLayer)):
            continue
        if _output_rank(model, path) == 4:
            return path
    raise ValueError(
        f"Model {model.name!r} has no layer with a 4-D output (batch, h, w, "
        "channels): there is no feature map to explain."
    )


def feature_model(model, layer, include_output=False):
    """A model from `model`'s inputs to `layer`'s output, sharing its weights.

    Args:
        model: a Functional or Sequential `keras.Model`.
        layer: str, or a list of str. A layer name or path, `"outer/inner"`
            for nested models; a list returns each layer's output, in order.
        include_output: bool. Also return `model`'s output. Defaults to `False`.

    Returns:
        A `keras.Model` returning the feature maps (a list for a list of
        layers), followed by `model`'s output when `include_output`.
    """
    functional = as_functional(model)
    several = isinstance(layer, (list, tuple))
    paths = [
        resolve_layer_path(functional, name) for name in (layer if several else [layer])
    ]
    # {top-level layer name: [the rest of each path through it, or ""]}.
    targets = {}
    for path in paths:
        name, _, rest = path.partition("/")
        targets.setdefault(name, []).append(rest)
    operations = {id(functional.get_layer(name)): name for name in targets}
    captured = {}

    def call_function(operation, *args, **kwargs):
        name = operations.get(id(operation))
        if name is None:
            return operation(*args, **kwargs)
        rests = targets[name]
        inner = [rest for rest in rests if rest]
        if inner:
            *features, output = feature_model(operation, inner, include_output=True)(
                *args, **kwargs
            )
            by_rest = dict(zip(inner, features))
        else:
            output = operation(*args, **kwargs)
            by_rest = {}
        for rest in rests:
            captured[name + ("/" + rest if rest else "")] = by_rest.get(rest, output)
        return output

    clone = keras.models.clone_model(
        functional, clone_function=lambda op: op, call_function=call_function
    )
    features = [captured[path] for path in paths]
    if not several:
        features = features[0]
        outputs = [features, clone.output] if include_output else features
    else:
        outputs = features + [clone.output] if include_output else features
    return keras.Model(_unwrap(clone.inputs), outputs, name=f"{model.name}_features")


def model_after(model, layer):
    """The layers of `model` after `layer`: its output from `layer`'s output.

    Ablation-CAM reruns only these on edited feature maps. Nested models
    are followed (`"outer/inner"`).

    Args:
        model: a Functional or Sequential `keras.Model`.
        layer: str. A layer name or path.

    Returns:
        `(tail, takes_inputs)`: a `keras.Model` called as `tail(features)`,
        or, when some path of `model` bypasses `layer` (a skip connection
        around it, `takes_inputs` True), as `tail([*model_inputs, features])`;
        layers before `layer` that only feed `layer` are not run either way.
    """
    functional = as_functional(model)
    path = resolve_layer_path(functional, layer)
    name, _, rest = path.partition("/")
    target = functional.get_layer(name)
    if rest:
        inner, inner_takes_inputs = model_after(target, rest)
        shape = inner.inputs[-1].shape
    else:
        shape = target.output.shape
    features = keras.Input(tuple(shape[1:]), name="features")

    def call_function(operation, *args, **kwargs):
        if operation is not target:
            return operation(*args, **kwargs)
        if not rest:
            return features
        if inner_takes_inputs:
            return inner(list(keras.tree.flatten(args)) + [features])
        return inner(features)

    inputs = [
        keras.Input(batch_shape=x.shape, dtype=x.dtype) for x in functional.inputs
    ]
    outputs = functional._run_through_graph(
        _unwrap(inputs), operation_fn=lambda op: op, call_fn=call_function
    )
    name = f"{model.name}_after_{path.replace('/', '_')}"
    try:
        return keras.Model(features, outputs, name=name), False
    except ValueError:  # Not connected: the output also needs the inputs.
        return keras.Model(inputs + [features], outputs, name=name), True


def skip_layer(model, layer):
    """`model` with `layer` replaced by the identity, sharing all other layers.

    With the model's preprocessing layer, this is the network on
    preprocessed inputs (what Score-CAM masks). `layer` must be a top-level
    layer of `model`, called on one tensor whose shape it keeps.

    Args:
        model: a Functional or Sequential `keras.Model`.
        layer: `keras.layers.Layer`, one of `model.layers`.

    Returns:
        A `keras.Model` with inputs shaped like `model`'s.
    """
    functional = as_functional(model)
    if not any(candidate is layer for candidate in functional.layers):
        raise ValueError(
            f"`layer` must be a top-level layer of model {model.name!r}. "
            f"Received: layer={getattr(layer, 'name', layer)!r}; the model's "
            f"layers are {[candidate.name for candidate in functional.layers]}."
        )

    def call_function(operation, *args, **kwargs):
        return args[0] if operation is layer else operation(*args, **kwargs)

    clone = keras.models.clone_model(
        functional, clone_function=lambda op: op, call_function=call_function
    )
    return keras.Model(
        _unwrap(clone.inputs), clone.output, name=f"{model.name}_after_{layer.name}"
    )
