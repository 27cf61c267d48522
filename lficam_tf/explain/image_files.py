"""Explaining image files: overlays and `predictions.json`, `lficam-explain`'s work.

`explain_files(model, files, out)` reads the files (resized bilinearly to the
model's input size), explains them batch by batch, and writes into `out` one
overlay PNG per image, `<name>_<method>.png`, and `predictions.json` with
each image's top-k classes and probabilities, the explained class and the
overlay's name. A file that cannot be read is skipped and named (under
`skipped`); the others are explained. `find_images` finds the image files
of folders (the formats of `lficam_tf.image_formats`), and
`drop_earlier_overlays` leaves out the overlays that an earlier run wrote
into the folder being explained.
"""

import json
import os
import pathlib

from lficam_tf.api_export import lficam_export
from lficam_tf.checks import check_int
from lficam_tf.choices import METHODS
from lficam_tf.image_formats import IMAGE_SUFFIXES


def find_images(inputs):
    """`(files, any folder given)`: the image files of `inputs`.

    Folders are searched recursively for files with a suffix of
    `IMAGE_SUFFIXES`, in sorted order; files are kept as given.
    """
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

    With `out` inside an input folder (`lficam-explain DIR --out DIR`), a
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


def load_images(files, size):
    """`(images, readable files, [(file, reason)] of the unreadable ones)`.

    `images` is float32 `(len(readable), height, width, 3)`, RGB 0..255,
    each file resized bilinearly to `size`, or None when none is readable.
    """
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


def _input_size(explainer, image_size):
    if image_size is not None:
        return tuple(image_size)
    size = explainer.image_size
    if size is None or None in size:
        raise ValueError(
            "`image_size` must be given: the model does not fix its input size. "
            "Received: image_size=None. Pass e.g. image_size=(224, 224) "
            "(lficam-explain: --image-size 224 224)."
        )
    return tuple(size)


def _unique_name(stem, method, used):
    name = f"{stem}_{method}.png"
    count = 1
    while name in used:
        name = f"{stem}-{count}_{method}.png"
        count += 1
    used.add(name)
    return name


@lficam_export("lficam_tf.explain.explain_files")
def explain_files(
    model,
    files,
    out,
    method="native",
    top_k=5,
    class_names=None,
    image_size=None,
    batch_size=32,
    alpha=0.5,
    colormap="jet",
    progress=None,
    on_skip=None,
    **explainer_options,
):
    """Overlays and top-k predictions of image files, written into `out`.

    What `lficam-explain` runs. Writes `<name>_<method>.png` per image (the
    map over the image; `<name>-1_<method>.png` etc. for repeated names) and
    `predictions.json`, and returns what it wrote there.

    Args:
        model: a `keras.Model`, a loaded SavedModel, or what
            `lficam_tf.explain.load_model` loads: a `.keras` file, a
            SavedModel folder or `WEIGHTS:BACKBONE[:HEAD]`.
        files: list of image file paths (`find_images` lists a folder's).
        out: str or path. The output folder, created if absent.
        method: str. One of `lficam_tf.explain.METHODS`. Defaults to
            `"native"`.
        top_k: int. Classes listed per image, most probable first.
            Defaults to `5`.
        class_names: None, a list of str, or the path of a JSON list or a
            text file with one name per line (`model_class_names`). Defaults
            to `None`: the names the model stores, if any.
        image_size: None or `(height, width)`. What the images are resized
            to. Defaults to `None`, the model's input size.
        batch_size: int. Images read and explained at a time. Defaults to
            `32`.
        alpha: float. Opacity of the map over the image, 0..1. Defaults to
            `0.5`.
        colormap: str. Matplotlib colormap of the map. Defaults to `"jet"`.
        progress: callable or None. Called with the number of files done
            after each batch. Defaults to `None`.
        on_skip: callable or None. Called as `on_skip(path, reason)` for
            each file that cannot be read, when it is met. Defaults to
            `None`.
        **explainer_options: the options of `lficam_tf.explain.explain`
            (`layer`, `top_n`, `masking`, ...).

    Returns:
        dict, the contents of `predictions.json`: `model`, `method`,
        `layer`, `top_k`, `num_classes`, `images` (per image: `file`,
        `overlay`, `explained_class`, `top_k`, and class names where known)
        and `skipped` (`file`, `error`).
    """
    from lficam_tf.explain.explanation import explain_with, get_explainer
    from lficam_tf.explain.model_files import load_model, model_class_names
    from lficam_tf.explain.overlay import save_overlay

    top_k = check_int(top_k, "top_k", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    source = None
    if isinstance(model, (str, os.PathLike)):
        source, model = str(model), load_model(model)
    explainer = get_explainer(model, method, **explainer_options)
    num_classes = explainer.num_classes
    names = model_class_names(model, num_classes, class_names, source)
    size = _input_size(explainer, image_size)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)

    records, used, skipped = [], set(), []
    method = getattr(explainer, "method", None)
    for start in range(0, len(files), batch_size):
        chunk = files[start : start + batch_size]
        images, batch_files, unreadable = load_images(chunk, size)
        for path, reason in unreadable:
            if on_skip is not None:
                on_skip(path, reason)
            skipped.append({"file": str(path), "error": reason})
        if batch_files:
            result = explain_with(explainer, images, batch_size=batch_size)
            method = result.method
            top_index, top_probability = result.top_k(top_k)
            for i, path in enumerate(batch_files):
                overlay_name = _unique_name(path.stem, method, used)
                save_overlay(
                    out / overlay_name, images[i], result.maps[i], alpha, colormap
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
            progress(len(chunk))
    # An export that returns class names has named the classes it returned.
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
        "model": source if source is not None else getattr(model, "name", None),
        "method": method,
        "layer": getattr(explainer, "layer", None),
        "top_k": top_k,
        "num_classes": num_classes,
        "images": records,
        "skipped": skipped,
    }
    (out / "predictions.json").write_text(json.dumps(report, indent=2))
    return report
