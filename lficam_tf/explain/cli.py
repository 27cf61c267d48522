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
command then exits with status 1. Only the parsing lives here; the work is
`lficam_tf.explain.explain_with`.
"""

import argparse
import json
import pathlib
import sys

from lficam_tf.choices import MASKINGS, METHODS, RESHAPE_TRANSFORMS
from lficam_tf.image_formats import IMAGE_SUFFIXES

PROG = "lficam-explain"


def parse_named_model(text):
    """`(weights, backbone, head)` of `WEIGHTS:BACKBONE[:HEAD]`, or None.

    None when `text` names no weights of `NAMED_WEIGHTS` (or is an existing
    path), so that files and folders are read as before.
    """
    from lficam_tf.presets import NAMED_WEIGHTS

    parts = str(text).split(":")
    if parts[0] not in NAMED_WEIGHTS or pathlib.Path(text).exists():
        return None
    if len(parts) not in (2, 3) or not all(parts):
        raise ValueError(
            f"`MODEL` must be WEIGHTS:BACKBONE[:HEAD] to load the package's "
            f"trained classifiers, e.g. '{parts[0]}:cifar_resnet20:lficam'. "
            f"Received: MODEL={text!r}"
        )
    return parts[0], parts[1], parts[2] if len(parts) == 3 else "lficam"


def load_model(path):
    """A `.keras` file as a Keras model, a SavedModel folder as a loaded one,
    `WEIGHTS:BACKBONE[:HEAD]` as the package's trained classifier."""
    import tensorflow as tf

    import lficam_tf.models  # noqa: F401  Registers the package's classes.
    from lficam_tf.models.serialization import load_keras_file

    named = parse_named_model(path)
    if named is not None:
        weights, backbone, head = named
        return lficam_tf.models.build_model(backbone, head=head, weights=weights)
    path = pathlib.Path(path)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return tf.saved_model.load(str(path))
    if path.is_file() and path.suffix in (".keras", ".h5"):
        return load_keras_file(path, "MODEL")  # Says when the file is damaged.
    hint = ""
    if path.is_dir() and any(child.name.isdigit() for child in path.iterdir()):
        hint = " This looks like an export base folder: pass a version folder."
    raise ValueError(
        "`MODEL` must be a .keras file, a SavedModel folder (with "
        "saved_model.pb) or a shipped classifier such as "
        f"'cifar10:cifar_resnet20:lficam'. Received: MODEL={str(path)!r}.{hint}"
    )


def find_images(inputs):
    """(files, any folder given): image files of `inputs`, folders searched."""
    files, folders = [], False
    for item in inputs:
        path = pathlib.Path(item)
        if path.is_dir():
            folders = True
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not found:
                raise ValueError(
                    f"`IMAGE_OR_FOLDER` must hold images ({', '.join(IMAGE_SUFFIXES)}). "
                    f"Received: folder {str(path)!r} with none."
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(
                f"`IMAGE_OR_FOLDER` must be an image file or a folder. "
                f"Received: {str(path)!r}, which does not exist."
            )
    return files, folders


def drop_earlier_overlays(files, out):
    """`(files, dropped)`: `files` without the overlays written into `out`.

    With `--out` inside an input folder (`lficam-explain DIR --out DIR`), a
    rerun would explain the overlays of the run before: the PNGs directly in
    `out` that its predictions.json lists, or named `<name>_<method>.png`,
    are left out.
    """
    out = pathlib.Path(out)
    if not out.is_dir():
        return files, []
    written = set()
    try:
        report = json.loads((out / "predictions.json").read_text())
        written = {record["overlay"] for record in report["images"]}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    suffixes = tuple(f"_{m}.png" for m in METHODS if m != "native")
    here = out.resolve()
    kept, dropped = [], []
    for path in files:
        ours = path.name in written or path.name.endswith(suffixes)
        (dropped if ours and path.parent.resolve() == here else kept).append(path)
    return kept, dropped


def read_class_names(path, num_classes):
    """Class names from a JSON list or a text file with one name per line."""
    text = pathlib.Path(path).read_text()
    if pathlib.Path(path).suffix == ".json":
        names = json.loads(text)
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not isinstance(names, list) or len(names) != num_classes:
        count = len(names) if isinstance(names, list) else type(names).__name__
        raise ValueError(
            f"`--class-names` must name each of the model's {num_classes} "
            f"classes, in order. Received: {count} names in {str(path)!r}"
        )
    return [str(name) for name in names]


def _model_class_names(model, model_argument=None):
    named = parse_named_model(model_argument) if model_argument else None
    if named is not None:
        from lficam_tf.presets import NAMED_WEIGHTS

        return list(NAMED_WEIGHTS[named[0]]["class_names"])
    names = getattr(model, "class_names", None)
    if names is None or isinstance(names, dict):
        return None
    if hasattr(names, "numpy"):
        names = [n.decode("utf-8") for n in names.numpy().ravel()]
    return [str(n) for n in names]


def _input_size(model, explainer, image_size):
    from lficam_tf.explain.native import SavedModelAttention

    if image_size is not None:
        return tuple(image_size)
    if isinstance(explainer, SavedModelAttention):
        size = explainer.image_size
    else:
        size = tuple(model.inputs[0].shape[1:3])
    if size is None or None in size:
        raise ValueError(
            "`--image-size` must be given: the model does not fix its input size. "
            "Received: no --image-size. Pass e.g. --image-size 224 224."
        )
    return size


def _load_images(files, size):
    """`(images, readable files, [(file, reason)] of the unreadable ones)`."""
    import keras
    import numpy as np

    images, readable, skipped = [], [], []
    for path in files:
        try:
            image = keras.utils.load_img(
                path, color_mode="rgb", target_size=size, interpolation="bilinear"
            )
            images.append(keras.utils.img_to_array(image))
            readable.append(path)
        except Exception as error:  # noqa: BLE001 (each file is named, then skipped)
            skipped.append((path, f"{type(error).__name__}: {error}"))
    stacked = np.stack(images) if images else None
    return stacked, readable, skipped


def _unique_name(stem, method, used):
    name = f"{stem}_{method}.png"
    count = 1
    while name in used:
        name = f"{stem}-{count}_{method}.png"
        count += 1
    used.add(name)
    return name


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
        "--batch-size",
        type=int,
        default=32,
        metavar="N",
        help="images per forward pass (default: 32)",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        nargs=2,
        metavar=("HEIGHT", "WIDTH"),
        help="resize images to this size (default: the model's input size)",
    )
    parser.add_argument(
        "--layer",
        action="append",
        help="post-hoc methods: the explained layer, 'outer/inner' for nested "
        "models; repeat it for layercam to fuse several layers (default: the "
        "last feature map)",
    )
    parser.add_argument(
        "--reshape-transform",
        choices=RESHAPE_TRANSFORMS,
        help="post-hoc methods on a layer that outputs tokens: 'vit' drops the "
        "class token and reshapes the rest to a square grid (default: none)",
    )
    parser.add_argument(
        "--aug-smooth",
        action="store_true",
        help="post-hoc methods: average the maps of the image and its "
        "horizontal flip times 0.9, 1.0, 1.1 (6x the cost; default: off)",
    )
    parser.add_argument(
        "--eigen-smooth",
        action="store_true",
        help="post-hoc methods: first principal component of the weighted "
        "activations instead of their sum (default: off)",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=32,
        metavar="N",
        help="Score-CAM: masked images per forward pass (default: 32)",
    )
    parser.add_argument(
        "--top-n",
        type=int,
        metavar="N",
        help="Score-CAM: score only the N channels of highest variance (Faster "
        "Score-CAM; default: all channels)",
    )
    parser.add_argument(
        "--masking",
        choices=MASKINGS,
        default="preprocessed",
        help="Score-CAM: what the masks multiply: 'preprocessed', the input after "
        "the model's preprocessing, as the Score-CAM authors do (masked-out pixels "
        "become the dataset mean), or 'images', the RGB images (masked-out pixels "
        "black) (default: preprocessed)",
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
        "--quiet", action="store_true", help="no progress bar (default: shown for folders)"
    )
    return parser


def run(args):
    """Do the work of `main` for parsed `args`; returns the JSON written."""
    import keras

    from lficam_tf.explain.explanation import explain_with, get_explainer
    from lficam_tf.explain.overlay import save_overlay

    if args.top_k < 1:
        raise ValueError(
            f"`--top-k` must be a positive int. Received: --top-k {args.top_k}"
        )
    if args.batch_size < 1:
        raise ValueError(
            f"`--batch-size` must be a positive int. Received: --batch-size {args.batch_size}"
        )
    files, folders = find_images(args.inputs)
    files, earlier = drop_earlier_overlays(files, args.out)
    if earlier and not files:
        raise ValueError(
            "`IMAGE_OR_FOLDER` must hold images other than the overlays of an "
            f"earlier run into --out. Received: only {len(earlier)} such "
            f"overlays in {args.out!r}."
        )
    if earlier and not args.quiet:
        print(f"{PROG}: left out {len(earlier)} overlays of an earlier run in {args.out}")
    model = load_model(args.model)
    explainer = get_explainer(
        model,
        args.method,
        layer=args.layer[0] if args.layer and len(args.layer) == 1 else args.layer,
        chunk_size=args.chunk_size,
        top_n=args.top_n,
        masking=args.masking,
        reshape_transform=args.reshape_transform,
        aug_smooth=args.aug_smooth,
        eigen_smooth=args.eigen_smooth,
    )
    num_classes = explainer.num_classes
    names = (
        read_class_names(args.class_names, num_classes)
        if args.class_names
        else _model_class_names(model, args.model)
    )
    size = _input_size(model, explainer, args.image_size)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    progress = (
        keras.utils.Progbar(len(files), unit_name="image")
        if folders and not args.quiet
        else None
    )
    records, used, skipped = [], set(), []
    method = getattr(explainer, "method", None)
    for start in range(0, len(files), args.batch_size):
        images, batch_files, unreadable = _load_images(
            files[start : start + args.batch_size], size
        )
        for path, reason in unreadable:
            print(f"{PROG}: skipped {path}: {reason}", file=sys.stderr, flush=True)
            skipped.append({"file": str(path), "error": reason})
        if not batch_files:
            if progress is not None:
                progress.add(len(unreadable))
            continue
        result = explain_with(explainer, images, batch_size=args.batch_size)
        method = result.method
        top_index, top_probability = result.top_k(args.top_k)
        for i, path in enumerate(batch_files):
            overlay_name = _unique_name(path.stem, method, used)
            save_overlay(
                out / overlay_name, images[i], result.maps[i], args.alpha, args.colormap
            )
            records.append(
                {
                    "file": str(path),
                    "overlay": overlay_name,
                    "explained_class": int(result.class_index[i]),
                    "top_k": [
                        {"class_index": int(c), "probability": float(p)}
                        for c, p in zip(top_index[i], top_probability[i])
                    ],
                }
            )
        if progress is not None:
            progress.add(len(batch_files) + len(unreadable))
    lookup = (
        dict(enumerate(names))
        if names
        else getattr(explainer, "class_names", None) or {}
    )
    for record in records:
        if record["explained_class"] in lookup:
            record["explained_class_name"] = lookup[record["explained_class"]]
        for entry in record["top_k"]:
            if entry["class_index"] in lookup:
                entry["class_name"] = lookup[entry["class_index"]]
    report = {
        "model": str(args.model),
        "method": method,
        "layer": getattr(explainer, "layer", None),
        "top_k": args.top_k,
        "num_classes": num_classes,
        "images": records,
        "skipped": skipped,
    }
    (out / "predictions.json").write_text(json.dumps(report, indent=2))
    return report


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
