"""The backbone registry: named constructors with their metadata as data.

Each backbone is one `BackboneSpec`: how to build the feature extractor, and
what a user (or `build_model`) needs to know about it without building it:
feature channels and stride, default input size, preprocessing, the name of
the feature layer, and whether the ABN head can be built on it.
"""

import dataclasses
import fnmatch
import re
from collections.abc import Callable

from lficam_tf.api_export import lficam_export
from lficam_tf.checks import did_you_mean


@dataclasses.dataclass(frozen=True)
class BackboneSpec:
    """What the package knows about one backbone.

    Attributes:
        name: registry name, e.g. `"cifar_resnet20"`.
        build: `build(input_shape, weights, **options)` returning a
            `keras.Model` from preprocessed images to the feature maps F.
        channels: K, the channels of F.
        stride: input size / feature-map size with the default options.
        input_shape: default `(height, width, 3)`.
        preprocessing: the preprocessing preset the backbone expects (a key
            of `lficam_tf.backbones.PREPROCESSING`), or `None` when the
            backbone normalises inside itself.
        feature_layer: the layer whose output is F, where it has a stable name.
        family: `"applications"`, `"cifar_resnet"`, `"cifar_densenet"`,
            `"cifar_resnext"` or `"resnet"`.
        build_abn: `build_abn(input_shape, weights, **options)` returning the
            three parts of an Attention Branch Network (extractor, perception
            stage, attention stage), or `None` where ABN is not supported.
        options: the extra keyword options `build` and `build_abn` accept,
            each with its default (e.g. `{"stem_stride": 2}`).
        description: one line for `list_backbones` users.
        post_attention: `post_attention(features_shape)` returning a
            `keras.Model` of the backbone's own layers that follow F in the
            original network (DenseNet's final BN and ReLU), which the
            LFI-CAM head applies to F' = (1 + A) F and the baseline to F,
            before pooling; `None` where F goes straight to the pooling.
        fin_width: the Feature Importance Network's width that
            `build_model(..., fin_width="auto")` (the default) gives this
            backbone: None for the paper's K -> K FIN (the CIFAR backbones,
            as the authors trained them), an int for the bottleneck FIN of
            `lficam_tf.layers.scaled_fin_width` on wide backbones, whose K -> K
            FIN would cost more than the network it explains.
    """

    name: str
    build: Callable
    channels: int
    stride: int
    input_shape: tuple
    preprocessing: str | None
    feature_layer: str | None = None
    family: str = ""
    build_abn: Callable | None = None
    options: dict = dataclasses.field(default_factory=dict)
    description: str = ""
    post_attention: Callable | None = None
    fin_width: int | None = None


_REGISTRY = {}


def register_backbone(spec):
    """Add `spec` to the registry; names are unique."""
    if spec.name in _REGISTRY:
        raise ValueError(f"Backbone {spec.name!r} is already registered.")
    _REGISTRY[spec.name] = spec
    return spec


def _natural_key(name):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


@lficam_export("lficam_tf.list_backbones")
def list_backbones(pattern="*", abn=False):
    """Names of the registered backbones, naturally sorted.

    Args:
        pattern: str. A shell-style wildcard such as `"resnet*"`.
            Defaults to `"*"`.
        abn: bool. Only the backbones the ABN head can be built on.
            Defaults to `False`.

    Example:

    >>> list_backbones("cifar_resnet*")
    ['cifar_resnet8', 'cifar_resnet20', 'cifar_resnet32', 'cifar_resnet56', 'cifar_resnet110']
    """
    names = [
        name
        for name, spec in _REGISTRY.items()
        if fnmatch.fnmatchcase(name, pattern) and (not abn or spec.build_abn)
    ]
    return sorted(names, key=_natural_key)


@lficam_export("lficam_tf.get_backbone_spec")
def get_backbone_spec(name):
    """The `BackboneSpec` registered as `name`.

    Raises:
        ValueError: for an unknown name, with the closest names and the list.
    """
    if not isinstance(name, str):
        raise TypeError(
            "`backbone` must be a registered name (str) or a keras.Model. "
            f"Received: backbone={name!r}"
        )
    if name not in _REGISTRY:
        hint = did_you_mean(name, list(_REGISTRY), n=3)
        raise ValueError(
            f"Unknown backbone {name!r}.{hint} Known backbones: "
            f"{', '.join(list_backbones())}. See lficam_tf.list_backbones()."
        )
    return _REGISTRY[name]
