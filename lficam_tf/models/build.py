"""`build_model`: a backbone name (or a user's model) to a ready classifier."""

import math

import keras

from lficam_tf import checks, graph, presets
from lficam_tf.api_export import lficam_export
from lficam_tf.backbones import weights as weights_lib
from lficam_tf.backbones.preprocessing import preprocessing_layer
from lficam_tf.backbones.registry import get_backbone_spec, list_backbones
from lficam_tf.backbones.resnet_blocks import check_stem_stride
from lficam_tf.checks import FIN_DEFAULTS, MIN_FEATURE_SIZE
from lficam_tf.choices import HEADS
from lficam_tf.layers.feature_importance_network import scaled_fin_width
from lficam_tf.models.abn_classifier import ABNClassifier
from lficam_tf.models.baseline_classifier import BaselineClassifier
from lficam_tf.models.lficam_classifier import LFICAMClassifier


def _check_input_shape(input_shape):
    if input_shape is None:
        return None
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = None
    if (
        shape is None
        or len(shape) != 3
        or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
    ):
        raise ValueError(
            "`input_shape` must be (height, width, 3) with integer sizes; "
            f"models have a fixed input size. Received: input_shape={input_shape!r}"
        )
    if shape[-1] != 3:
        raise ValueError(
            "`input_shape` must have 3 channels: models take RGB images in "
            f"0..255. Received: input_shape={shape}"
        )
    return shape


def _check_feature_size(features_shape, input_shape, backbone_name, stride=None):
    """The rule behind `lficam_tf.checks.MIN_IMAGE_SIZE`, on the real map."""
    h, w = features_shape[1:3]
    least = MIN_FEATURE_SIZE
    if h is not None and h >= least and w is not None and w >= least:
        return
    need = (
        f" at least {least * stride}x{least * stride}" if stride else " a larger size"
    )
    raise ValueError(
        f"input_shape={tuple(input_shape)} gives a {h}x{w} feature map on "
        f"backbone {backbone_name!r}; LFI-CAM needs at least {least}x{least}. Use "
        f"input_shape{need} (the backbone's default is the safe choice)."
    )


def _resolve_preprocessing(preprocessing, default):
    return preprocessing_layer(default if preprocessing == "auto" else preprocessing)


@lficam_export("lficam_tf.build_model")
def build_model(
    backbone="cifar_resnet20",
    num_classes=10,
    input_shape=None,
    head="lficam",
    weights=None,
    feature_layer=None,
    preprocessing="auto",
    fin_depth=FIN_DEFAULTS["fin_depth"],
    fin_relu=FIN_DEFAULTS["fin_relu"],
    fin_width=FIN_DEFAULTS["fin_width"],
    stem_stride=None,
    name=None,
):
    """Build an LFI-CAM (or ABN, or plain) classifier on a backbone.

    Every model takes float RGB images in 0..255 and returns a dict of named
    outputs; see `LFICAMClassifier`, `ABNClassifier`, `BaselineClassifier`.

    Args:
        backbone: str or `keras.Model`. A registered name (see
            `lficam_tf.list_backbones()`), or a user's model together with
            `feature_layer`. Defaults to `"cifar_resnet20"`.
        num_classes: int. Number of classes. Defaults to `10`.
        input_shape: `(height, width, 3)`, or None for the backbone's
            default (32x32 for CIFAR presets, 224x224 otherwise).
        head: str. `"lficam"`, `"abn"` (Attention Branch Network; on
            `list_backbones(abn=True)`) or `"baseline"` (no attention).
            Defaults to `"lficam"`.
        weights: None (random initialisation), `"imagenet"` (the
            `keras.applications` backbones; needs internet once), the name
            of a preset, a whole classifier shipped with the package
            (`lficam_tf.presets.NAMED_WEIGHTS`: `"cifar10"`, trained on
            CIFAR-10 as `"cifar_resnet20"`, 10 classes, every head; test
            accuracies in the README), or the path of a backbone weights
            file. Defaults to `None`.
        feature_layer: str. With a user's model: the layer (path
            `"outer/inner"` for nested models) whose output is F. Defaults to
            the last layer with a 4-D output.
        preprocessing: `"auto"` (the backbone's own), a preset of
            `lficam_tf.backbones.PREPROCESSING` (`"caffe"`, `"tf"`,
            `"imagenet"`, `"cifar"`) or None. With a user's model, `"auto"` is
            None. Defaults to `"auto"`.
        fin_depth: int. FIN's conv-BN units. Defaults to `4`.
        fin_relu: str. `"paired"` (the authors' CIFAR code) or `"every"`.
            Defaults to `"paired"`.
        fin_width: `"auto"`, int or None. FIN's width. `"auto"` is the
            backbone's default (`BackboneSpec.fin_width`): the paper's
            K -> K FIN on the CIFAR backbones, a bottleneck FIN of width
            `lficam_tf.layers.scaled_fin_width(K)` (K / 16, at least 64) on
            backbones with more than 256 feature channels (ResNet-50:
            0.82 M FIN weights instead of 151 M), the same rule on a user's
            model. An int W gives that bottleneck (1x1 K -> W, 3x3 W -> W,
            1x1 W -> K); None gives the paper's K -> K FIN on any backbone.
            Defaults to `"auto"`. The `fin_*` options apply to
            `head="lficam"` only: another head with a non-default one raises
            a `ValueError`.
        stem_stride: int or None. The ResNets only. ImageNet-style
            (`resnet18/34`, `resnet50/101/152`, `resnet50v2/101v2`): 2 (7x7
            maps at 224, their default) or 1 (14x14, the authors' last
            commit; ImageNet weights still load). CIFAR (`cifar_resnet*`):
            1 (the authors', their default) or 2 (64x64 images at the cost
            of 32x32 ones, 8x8 maps; the default job's). None: the
            backbone's default (`BackboneSpec.options`). Defaults to None.
        name: str or None. The model's name.

    Returns:
        An `ImageClassifier`, not yet compiled: call `model.compile()` for the
        paper's optimizer and loss.

    Example:

    >>> import lficam_tf
    >>> model = lficam_tf.build_model("cifar_resnet20", num_classes=10)
    >>> sorted(model.output)
    ['attention', 'importance', 'logits']
    """
    if head not in HEADS:
        raise ValueError(f"`head` must be one of {HEADS}. Received: head={head!r}")
    num_classes = checks.check_int(num_classes, "num_classes", minimum=1)
    checks.check_fin_options(head, fin_depth, fin_relu, fin_width)
    input_shape = _check_input_shape(input_shape)
    weights = presets.validate_weights_argument(weights)
    named = presets.named_weights_path(
        weights,
        backbone,
        num_classes,
        input_shape,
        head,
        {
            "feature_layer": feature_layer,
            "preprocessing": preprocessing,
            "fin_depth": fin_depth,
            "fin_relu": fin_relu,
            "fin_width": fin_width,
            "stem_stride": stem_stride,
        },
    )
    if named is not None:
        # The whole classifier's weights, not only the backbone's.
        model = build_model(backbone, num_classes, head=head, name=name)
        return presets.load_classifier_weights(model, named)

    post_attention = None
    if isinstance(backbone, keras.Model):
        parts = _user_backbone(backbone, feature_layer, input_shape, weights, head)
        default_preprocessing = None
        default_fin_width = scaled_fin_width(parts.output.shape[-1])
    else:
        spec = get_backbone_spec(backbone)
        if feature_layer is not None:
            raise ValueError(
                "`feature_layer` is for a user's keras.Model backbone; registered "
                f"backbones know theirs. Received: backbone={backbone!r}, "
                f"feature_layer={feature_layer!r}"
            )
        parts = _registered_backbone(spec, input_shape, weights, head, stem_stride)
        default_preprocessing = spec.preprocessing
        default_fin_width = spec.fin_width
        if spec.post_attention is not None and head != "abn":
            # ABN's perception stage holds these layers already.
            post_attention = spec.post_attention(parts.output.shape[1:])

    preprocessor = _resolve_preprocessing(preprocessing, default_preprocessing)
    kwargs = {"name": name} if name else {}
    if head == "abn":
        extractor, perception, attention = parts
        return ABNClassifier(
            extractor, perception, attention, num_classes, preprocessor, **kwargs
        )
    if head == "baseline":
        return BaselineClassifier(
            parts, num_classes, preprocessor, post_attention, **kwargs
        )
    return LFICAMClassifier(
        parts,
        num_classes,
        preprocessor,
        fin_depth=fin_depth,
        fin_relu=fin_relu,
        fin_width=default_fin_width if fin_width == "auto" else fin_width,
        post_attention=post_attention,
        **kwargs,
    )


def _stem_stride_backbones():
    """Names of the registered backbones that take the `stem_stride` option."""
    return [
        name
        for name in list_backbones()
        if "stem_stride" in get_backbone_spec(name).options
    ]


def _registered_backbone(spec, input_shape, weights, head, stem_stride):
    options = {}
    if stem_stride is not None:
        if "stem_stride" not in spec.options:
            raise ValueError(
                f"`stem_stride` applies to {_stem_stride_backbones()} only. "
                f"Received: backbone={spec.name!r}, stem_stride={stem_stride!r}"
            )
        check_stem_stride(stem_stride)
        options["stem_stride"] = stem_stride
    input_shape = input_shape or spec.input_shape
    stride = spec.stride
    if "stem_stride" in options:
        stride = stride * options["stem_stride"] // spec.options["stem_stride"]
    expected = [math.ceil(d / stride) for d in input_shape[:2]]
    if min(expected) < 2:
        _check_feature_size((None, *expected), input_shape, spec.name, stride)

    if head == "abn":
        if spec.build_abn is None:
            raise ValueError(
                f"head='abn' is not available on backbone {spec.name!r}: ABN needs "
                "the backbone's last stage rebuilt with stride 1. Backbones with "
                f"ABN: {list_backbones(abn=True)}."
            )
        parts = spec.build_abn(input_shape=input_shape, weights=weights, **options)
        _check_feature_size(parts[1].output.shape, input_shape, spec.name, stride)
        return parts
    backbone = spec.build(input_shape=input_shape, weights=weights, **options)
    _check_feature_size(backbone.output.shape, input_shape, spec.name, stride)
    return backbone


def _user_backbone(model, feature_layer, input_shape, weights, head):
    if head == "abn":
        raise ValueError(
            "head='abn' needs a backbone whose last stage can be rebuilt with "
            f"stride 1: use one of {list_backbones(abn=True)}, not a user's model."
        )
    if weights == "imagenet":
        raise ValueError(
            "weights='imagenet' is for registered keras.applications backbones. "
            "Load weights into your own model before passing it in, or pass "
            "weights=<path of its weights file>."
        )
    weights_lib.load_weights(model, weights, model.name)
    layer = feature_layer or graph.last_feature_layer(model)
    backbone = graph.feature_model(model, layer)
    model_shape = tuple(backbone.input_shape[1:])
    if input_shape is not None and input_shape != model_shape:
        raise ValueError(
            f"`input_shape` {input_shape} differs from the input shape of the "
            f"given model, {model_shape}. Leave input_shape=None."
        )
    if len(backbone.output.shape) != 4:
        raise ValueError(
            f"`feature_layer` {layer!r} must output feature maps of shape "
            f"(batch, h, w, channels). Received: shape {backbone.output.shape}."
        )
    _check_feature_size(backbone.output.shape, model_shape, model.name)
    return backbone
