"""`lficam-explain`: overlays and top-k predictions for image files.

    lficam-explain MODEL IMAGE_OR_FOLDER... --out DIR [--method native]
        [--top-k 5] [--class-names FILE] [--batch-size 32]

MODEL is a `.keras` file (every method), a SavedModel folder, e.g. a
version folder of `lficam_tf.export.export` (the model's own map only:
post-hoc methods need gradients and inner layers, which an export does not
keep), or a classifier shipped with the package, `WEIGHTS:BACKBONE[:HEAD]`
(e.g. `cifar10:cifar_resnet20:lficam`, what `lficam_tf.build_model(backbone,
weights=WEIGHTS, head=HEAD)` loads; HEAD defaults to lficam; every method,
class names included). Folders are searched recursively for images (the formats of
`lficam_tf.image_formats`: .jpg .jpeg .png .gif .bmp .webp), in sorted
order. Images are resized (bilinear) to the model's input size. Writes into
DIR one overlay PNG per image, `<name>_<method>.png`, and `predictions.json`
with each image's top-k classes and probabilities, the explained class, and
the overlay's file name. Class names come from `--class-names` (a JSON
list, or a text file with one name per line), or from the model when it
stores them (`class_names` attribute, or a SavedModel's `class_names`
output). A file that cannot be read is skipped and named (on stderr and
under `skipped` in predictions.json); the others are explained, and the
command then exits with status 1. Only the parsing and the messages live
here; the work is `lficam_tf.explain.image_files` (`explain_files`), the
models `lficam_tf.explain.model_files`, the explainer options
`lficam_tf.explain.arguments`.
"""

import argparse
import sys

from lficam_tf.choices import METHODS
from lficam_tf.explain.arguments import add_explainer_arguments, explainer_options
from lficam_tf.explain.image_files import (
    drop_earlier_overlays,
    explain_files,
    find_images,
)
from lficam_tf.image_formats import IMAGE_SUFFIXES

PROG = "lficam-explain"


_EPILOG = """\
examples:
  lficam-explain runs/shapes-1/model.keras photos/ --out maps/
  lficam-explain model.keras cat.jpg dog.png --out maps/ --method gradcam --top-k 3
  lficam-explain model.keras photos/ --out maps/ --method scorecam --top-n 16
  lficam-explain runs/shapes-1/serving/1 photos/ --out maps/ --class-names names.txt
  lficam-explain cifar10:cifar_resnet20:lficam photos/ --out maps/   # shipped model

Writes DIR/<image>_<method>.png (the map over the image) for each image and
DIR/predictions.json (top-k classes, probabilities, the explained class, the
overlay's name). A file that cannot be read is named on stderr and skipped;
the others are explained, and the exit status is then 1. Exit status 2: a
bad argument or model.
"""


def build_parser():
    """The `argparse` parser of `lficam-explain`; builds in milliseconds."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Write saliency-map overlays and top-k predictions for image files\n"
            "with a trained LFI-CAM, ABN or plain classifier."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="a .keras file (every method), a SavedModel version folder "
        "(e.g. runs/<run>/serving/1; --method native only), or a classifier "
        "shipped with the package, WEIGHTS:BACKBONE[:HEAD] (e.g. "
        "cifar10:cifar_resnet20:abn; HEAD defaults to lficam)",
    )
    parser.add_argument(
        "inputs",
        metavar="IMAGE_OR_FOLDER",
        nargs="+",
        help=f"image files, or folders searched recursively for {' '.join(IMAGE_SUFFIXES)} files",
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="output folder (created; required)"
    )
    parser.add_argument(
        "--method",
        default="native",
        choices=METHODS,
        help="the model's own map ('native', 'lficam', 'abn') or a post-hoc "
        "method (default: native)",
    )
    parser.add_argument(
        "--top-k",
        type=int,
        default=5,
        metavar="K",
        help="classes listed per image, most probable first (default: 5)",
    )
    parser.add_argument(
        "--class-names",
        metavar="FILE",
        help="a JSON list or a text file with one name per line (default: the "
        "names the model stores, else none)",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        nargs=2,
        metavar=("HEIGHT", "WIDTH"),
        help="resize images to this size (default: the model's input size)",
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=0.5,
        help="opacity of the map over the image, 0..1 (default: 0.5)",
    )
    parser.add_argument(
        "--colormap",
        default="jet",
        help="matplotlib colormap of the map (default: jet)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar (default: shown for folders)",
    )
    add_explainer_arguments(parser)
    return parser


def run(args):
    """Do the work of `main` for parsed `args`; returns the JSON written."""
    import keras

    if args.top_k < 1:
        raise ValueError(
            f"`--top-k` must be a positive int. Received: --top-k {args.top_k}"
        )
    options = explainer_options(args)
    files, folders = find_images(args.inputs)
    files, earlier = drop_earlier_overlays(files, args.out)
    if earlier and not files:
        raise ValueError(
            "`IMAGE_OR_FOLDER` must hold images other than the overlays of an "
            f"earlier run into --out. Received: only {len(earlier)} such "
            f"overlays in {args.out!r}."
        )
    if earlier and not args.quiet:
        print(
            f"{PROG}: left out {len(earlier)} overlays of an earlier run in {args.out}"
        )
    progress = None
    if folders and not args.quiet:
        progress = keras.utils.Progbar(len(files), unit_name="image").add

    def say_skipped(path, reason):
        print(f"{PROG}: skipped {path}: {reason}", file=sys.stderr, flush=True)

    return explain_files(
        args.model,
        files,
        args.out,
        method=args.method,
        top_k=args.top_k,
        class_names=args.class_names,
        image_size=args.image_size,
        batch_size=args.batch_size,
        alpha=args.alpha,
        colormap=args.colormap,
        progress=progress,
        on_skip=say_skipped,
        **options,
    )


def main(argv=None):
    """Entry point of `lficam-explain`; `argv` defaults to `sys.argv[1:]`.

    Returns 0 on success, 1 when some image files could not be read (they
    are named on stderr and skipped; the others are explained). A bad
    argument, model or output folder exits with status 2 and a one-line
    message on stderr (argparse's convention).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    # TensorFlow loads only now (an instant --help), without the no-GPU
    # lines of a CPU machine.
    from lficam_tf.tf_logs import import_tensorflow

    import_tensorflow()
    import matplotlib

    matplotlib.use("Agg")
    try:
        report = run(args)
    except (ValueError, TypeError, OSError) as error:
        parser.exit(2, f"{PROG}: error: {error}\n")
    if report["skipped"]:
        print(
            f"{PROG}: error: {len(report['skipped'])} of "
            f"{len(report['skipped']) + len(report['images'])} image files could "
            f"not be read and were skipped (named above); the others are in "
            f"{args.out}.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
