"""`lficam-eval`: the explanation report of one or more trained models.

    lficam-eval MODEL [MODEL ...] --data SOURCE --out DIR [--num-images 64]
        [--methods native gradcam gradcam++ scorecam] [--steps 50]

MODELs are `.keras` files of the same input size. SOURCE is what
`lficam_tf.data.load_data` takes: `"shapes"` (the built-in dataset, with
object masks), a TFDS name (with `--data-dir`), or an image folder with
`train/` and `test/`; its test split is evaluated, resized to the models'
input size, the first `--num-images` images. Writes `report.json`,
`report.md` and PNG plots into DIR (see `lficam_tf.evaluation.write_report`).
Only the parsing and the messages live here; the work is
`lficam_tf.evaluation.inputs` (models and images), `evaluate` and
`write_report`.
"""

import argparse
import sys

from lficam_tf.choices import METHODS, TARGETS
from lficam_tf.evaluation.inputs import load_models, load_test_images
from lficam_tf.explain.arguments import add_explainer_arguments, explainer_options

PROG = "lficam-eval"


_EPILOG = """\
examples:
  lficam-eval runs/shapes-1/model.keras --data shapes --out report/
  lficam-eval lficam.keras abn.keras baseline.keras --data shapes --out report/
  lficam-eval model.keras --data cifar10 --data-dir ~/tensorflow_datasets --out report/ \\
      --methods native gradcam --num-images 256
  lficam-eval model.keras --data path/to/folder --out report/ --target label

Writes report.json, report.md and PNG plots (deletion / insertion curves,
example maps, stability) into DIR. With 'shapes' the object masks also give
the pointing games and box localization. Exit status 2: a bad argument,
model or dataset.
"""

_BASELINES = ("zeros", "blur", "mean")


def build_parser():
    """The `argparse` parser of `lficam-eval`; builds in milliseconds."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Score the LFI-CAM, ABN and post-hoc (Grad-CAM, Grad-CAM++, Score-CAM)\n"
            "maps of trained models on a dataset's test images, and write a report."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "models",
        metavar="MODEL",
        nargs="+",
        help=".keras files of the same input size (a SavedModel has no "
        "gradients or inner layers)",
    )
    parser.add_argument(
        "--data",
        required=True,
        metavar="SOURCE",
        help="'shapes' (built in, with object masks), a TFDS name (with "
        "--data-dir) or an image folder with train/ and test/ (required)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="TFDS data folder (default: TFDS's ~/tensorflow_datasets)",
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="output folder (created; required)"
    )
    parser.add_argument(
        "--num-images",
        type=int,
        default=64,
        metavar="N",
        help="evaluate the first N test images (default: 64)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        metavar="METHOD",
        help=f"methods to score, of {{{','.join(METHODS)}}} (default: native, "
        "gradcam, gradcam++ and scorecam; those that do not apply to a model "
        "are skipped for it)",
    )
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="predicted",
        help="explain each model's predicted class or the true label "
        "(default: predicted)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=50,
        metavar="N",
        help="deletion / insertion steps (default: 50)",
    )
    parser.add_argument(
        "--deletion-baseline",
        default="zeros",
        choices=_BASELINES,
        help="what deleted pixels become (default: zeros, as RISE)",
    )
    parser.add_argument(
        "--insertion-baseline",
        default="blur",
        choices=_BASELINES,
        help="the image that pixels are inserted into (default: blur, as RISE)",
    )
    parser.add_argument(
        "--no-road",
        dest="road",
        action="store_false",
        help="skip ROAD (noisy linear imputation, Rong et al. 2022), the "
        "slowest metric: 2 P sparse solves per image and method (default: "
        "scored)",
    )
    parser.add_argument(
        "--road-percentages",
        type=float,
        nargs="+",
        metavar="P",
        help="ROAD: percentages of pixels removed (default: 10 20 ... 90)",
    )
    parser.add_argument(
        "--examples",
        type=int,
        default=6,
        metavar="N",
        help="example rows per model in the report (default: 6)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the 'shapes' images and of an image folder's file order "
        "(default: 0)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress lines (default: printed)"
    )
    add_explainer_arguments(parser)
    return parser


def run(args):
    """Do the work of `main` for parsed `args`; returns the files written."""
    from lficam_tf.evaluation.evaluate import evaluate
    from lficam_tf.evaluation.report import write_report
    from lficam_tf.explain.classifier_outputs import scores_model

    if args.num_images < 1:
        raise ValueError(
            f"`--num-images` must be a positive int. Received: --num-images {args.num_images}"
        )
    options = explainer_options(args)
    models, names = load_models(args.models)
    size = tuple(models[0].inputs[0].shape[1:3])
    images, labels, masks, class_names, bundle = load_test_images(
        args.data, size, args.num_images, args.data_dir, args.seed
    )
    for name, model in zip(names, models):
        num_classes = scores_model(model).model.outputs[0].shape[-1]
        if num_classes != bundle.num_classes:
            raise ValueError(
                f"`--data` must have the models' classes: model {name!r} has "
                f"{num_classes} classes, {args.data!r} has {bundle.num_classes} "
                f"({', '.join(class_names)}). Received: --data {args.data!r}"
            )
    progress = (
        None
        if args.quiet
        else (lambda message: print(f"{PROG}: {message}", flush=True))
    )
    evaluation = evaluate(
        models,
        images,
        labels=labels,
        masks=masks,
        model_names=names,
        methods=args.methods,
        target=args.target,
        batch_size=args.batch_size,
        steps=args.steps,
        deletion_baseline=args.deletion_baseline,
        insertion_baseline=args.insertion_baseline,
        road=args.road,
        road_percentages=args.road_percentages,
        progress=progress,
        **options,
    )
    evaluation.config["models"] = [str(p) for p in args.models]
    evaluation.config["data"] = str(args.data)
    description = f"{bundle.name} test split ({bundle.num_classes} classes)"
    return write_report(
        evaluation, args.out, images, labels, class_names, description, args.examples
    )


def main(argv=None):
    """Entry point of `lficam-eval`; `argv` defaults to `sys.argv[1:]`.

    Returns 0 on success; a bad argument exits with status 2 and a message
    on stderr.
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
        written = run(args)
    except (ValueError, TypeError, OSError) as error:
        parser.exit(2, f"{PROG}: error: {error}\n")
    if not args.quiet:
        print(f"{PROG}: wrote {', '.join(sorted(written))} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
