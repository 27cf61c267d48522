"""Loading backbone weights, with errors that say what to do."""

import os


def check_weights_file(weights, backbone_name):
    """Raise `FileNotFoundError` unless `weights` is an existing file."""
    if not os.path.isfile(weights):
        raise FileNotFoundError(
            f"Weights file not found: {weights!r} (backbone {backbone_name!r}). "
            "`weights` must be None (random initialisation), 'imagenet' where "
            "the backbone has ImageNet weights, or the path of an existing "
            "weights file saved with `backbone.save_weights(path)` (a "
            "'.weights.h5' file)."
        )


def mismatch_error(weights, backbone_name, error):
    # Keras' own message goes on to print whole variables: keep its first line.
    reason = str(error).strip().split("\n")[0][:300]
    return ValueError(
        f"The weights file {weights!r} does not match backbone "
        f"{backbone_name!r} ({reason}). Load a file saved from the same "
        "architecture (same backbone, depth and options such as stem_stride)."
    )


def load_weights(model, weights, backbone_name):
    """Load `weights` (None or a path) into one of our own backbones."""
    if weights is None:
        return model
    if weights == "imagenet":
        raise ValueError(
            f"Backbone {backbone_name!r} has no ImageNet weights: it is one of "
            "this package's own backbones. Received: weights='imagenet'. Pass "
            "weights=None to train from scratch or the path of a weights file."
        )
    check_weights_file(weights, backbone_name)
    try:
        model.load_weights(weights)
    except (ValueError, KeyError) as error:
        raise mismatch_error(weights, backbone_name, error) from error
    return model


def copy_weights_by_name(source, targets):
    """Copy the weights of `source`'s layers into same-named layers of `targets`."""
    for target in targets:
        for layer in target.layers:
            if layer.weights:
                layer.set_weights(source.get_layer(layer.name).get_weights())


def validate_weights_argument(weights):
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise TypeError(
            "`weights` must be None, 'imagenet' or a path. "
            f"Received: weights={weights!r}"
        )
    return os.fspath(weights) if weights is not None else None
