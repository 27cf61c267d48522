"""The explainer options on a command line, declared once.

`lficam-explain` and `lficam-eval` take the same explainer options: images
per forward pass, the explained layer, the token reshape, the smoothings and
Score-CAM's options. `add_explainer_arguments` declares them on a parser,
and `explainer_options` turns the parsed flags into keyword options of
`lficam_tf.explain.explain` / `get_explainer` (and of
`lficam_tf.evaluation.evaluate`): only the flags given, so that each method
applies its own defaults and refuses an option it does not take, as it does
for a Python caller. Imports neither Keras nor TensorFlow (an instant
`--help`).

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_explainer_arguments(parser)
>>> args = parser.parse_args(["--top-n", "8", "--layer", "conv5", "--aug-smooth"])
>>> explainer_options(args)
{'layer': 'conv5', 'top_n': 8, 'aug_smooth': True}
>>> explainer_options(parser.parse_args([]))
{}
"""

from lficam_tf.choices import MASKINGS, RESHAPE_TRANSFORMS

#: `--masking`'s value when the flag is not given (Score-CAM's default):
#: not forwarded, like every flag left out.
_MASKING_DEFAULT = "preprocessed"


def add_explainer_arguments(parser):
    """Add the explainer options to `parser`, as the group "explainer options".

    `--batch-size`, `--layer` (repeat it for LayerCAM's fusion),
    `--reshape-transform`, `--aug-smooth`, `--eigen-smooth`, `--chunk-size`,
    `--top-n` and `--masking`, each with its default in its help.

    Args:
        parser: an `argparse.ArgumentParser`.
    """
    group = parser.add_argument_group("explainer options")
    group.add_argument(
        "--batch-size",
        type=int,
        default=32,
        metavar="N",
        help="images per forward pass (default: 32)",
    )
    group.add_argument(
        "--layer",
        action="append",
        help="post-hoc methods: the explained layer, 'outer/inner' for nested "
        "models; repeat it for layercam to fuse several layers (default: the "
        "last feature map)",
    )
    group.add_argument(
        "--reshape-transform",
        choices=RESHAPE_TRANSFORMS,
        help="post-hoc methods on a layer that outputs tokens: 'vit' drops the "
        "class token and reshapes the rest to a square grid (default: none)",
    )
    group.add_argument(
        "--aug-smooth",
        action="store_true",
        help="post-hoc methods: average the maps of the image and its "
        "horizontal flip times 0.9, 1.0, 1.1 (6x the cost; default: off)",
    )
    group.add_argument(
        "--eigen-smooth",
        action="store_true",
        help="post-hoc methods: first principal component of the weighted "
        "activations instead of their sum (default: off)",
    )
    group.add_argument(
        "--chunk-size",
        type=int,
        metavar="N",
        help="Score-CAM: masked images per forward pass; Ablation-CAM: ablated "
        "feature maps per pass (default: 32)",
    )
    group.add_argument(
        "--top-n",
        type=int,
        metavar="N",
        help="Score-CAM: score only the N channels of highest variance (Faster "
        "Score-CAM; default: all channels)",
    )
    group.add_argument(
        "--masking",
        choices=MASKINGS,
        default=_MASKING_DEFAULT,
        help="Score-CAM: what the masks multiply: 'preprocessed', the input after "
        "the model's preprocessing, as the Score-CAM authors do (masked-out pixels "
        "become the dataset mean), or 'images', the RGB images (masked-out pixels "
        "black) (default: preprocessed)",
    )


def explainer_options(args):
    """The explainer options given on the command line, as `explain`'s keywords.

    The one place that turns the flags of `add_explainer_arguments` into
    options: a flag left out is left out (the method's own default applies),
    one `--layer` is a name and several are a list (LayerCAM's fusion).
    `--batch-size` is checked here and read as `args.batch_size`; it is not
    an option of the explainer.

    Args:
        args: the `argparse.Namespace` of a parser that
            `add_explainer_arguments` filled.

    Returns:
        dict of keyword options for `lficam_tf.explain.get_explainer`,
        `explain` and `lficam_tf.evaluation.evaluate`.

    Raises:
        ValueError: `--batch-size` is below 1.
    """
    if args.batch_size < 1:
        raise ValueError(
            f"`--batch-size` must be a positive int. Received: --batch-size {args.batch_size}"
        )
    layer = args.layer[0] if args.layer and len(args.layer) == 1 else args.layer
    options = {
        "layer": layer,
        "chunk_size": args.chunk_size,
        "top_n": args.top_n,
        "masking": None if args.masking == _MASKING_DEFAULT else args.masking,
        "reshape_transform": args.reshape_transform,
        "aug_smooth": args.aug_smooth or None,
        "eigen_smooth": args.eigen_smooth or None,
    }
    return {name: value for name, value in options.items() if value is not None}
