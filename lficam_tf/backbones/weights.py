"""Loading backbone weights (None or a file), with errors that say what to do.

`"imagenet"` is `keras.applications`' own (`applications.py`). The
package's trained classifiers, loaded by name (`weights="cifar10"`), are
`lficam_tf.presets`'; an unknown name is answered here, with the close
preset, because `build_model` passes it on as a path.
"""

import os

from lficam_tf.checks import did_you_mean, weights_mismatch_error
from lficam_tf.presets import NAMED_WEIGHTS, named_weights_text


def check_weights_file(weights, backbone_name):
    """Raise `FileNotFoundError` unless `weights` is an existing file."""
    if not os.path.isfile(weights):
        # A name close to a shipped classifier's ('CIFAR10', 'cifar100') is
        # more likely a misspelt name than a missing file.
        hint = did_you_mean(weights, list(NAMED_WEIGHTS) + ["imagenet"])
        raise FileNotFoundError(
            f"Weights file not found: {weights!r} (backbone {backbone_name!r}).{hint} "
            "`weights` must be None (random initialisation), 'imagenet' where "
            "the backbone has ImageNet weights, the name of the package's "
            f"trained classifiers ({named_weights_text()}), or the path of an "
            "existing weights file saved with `backbone.save_weights(path)` (a "
            "'.weights.h5' file)."
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
        raise weights_mismatch_error(weights, backbone_name, error) from error
    return model


def copy_weights_by_name(source, targets, skip=()):
    """Copy the weights of `source`'s layers into same-named layers of `targets`.

    Layers named in `skip` (which `source` does not have) keep their weights.
    """
    for target in targets:
        for layer in target.layers:
            if layer.weights and layer.name not in skip:
                layer.set_weights(source.get_layer(layer.name).get_weights())
