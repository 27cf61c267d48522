"""Writing an `Evaluation` as `report.json`, `report.md` and PNG plots."""

import json
import pathlib
import re

import numpy as np

from lficam_tf.api_export import lficam_export
from lficam_tf.evaluation.evaluate import METHOD_TITLES, METRICS
from lficam_tf.evaluation.plots import plot_curves, plot_examples, plot_stability


def file_stem(name):
    """A file-name-safe version of a model or method name."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name.replace("++", "pp"))


def _fmt(value):
    return "n/a" if value is None else f"{value:.3f}"


def _metric_table(evaluation, name):
    rows = evaluation.metrics[name]
    keys = [k for k, _, _ in METRICS if any(k in v for v in rows.values())]
    titles = {k: (t, better) for k, t, better in METRICS}
    header = ["method"] + [
        f"{titles[k][0]} {'↓' if titles[k][1] == 'lower' else '↑'}" for k in keys
    ]
    best = {}
    for key in keys:
        values = [v[key] for v in rows.values() if key in v]
        best[key] = (min if titles[key][1] == "lower" else max)(values)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, values in rows.items():
        cells = [METHOD_TITLES.get(method, method)]
        for key in keys:
            text = _fmt(values.get(key))
            if len(rows) > 1 and values.get(key) == best[key]:
                text = f"**{text}**"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _markdown(evaluation, figures, data_description):
    c = evaluation.config
    lines = [
        "# LFI-CAM evaluation report",
        "",
        f"Data: {data_description}; {c['num_images']} images of "
        f"{c['image_size'][0]}x{c['image_size'][1]}"
        + (
            "; object masks available."
            if c["masks"]
            else "; no object masks (no pointing game or box localization)."
        ),
        f"Explained class: the {'model prediction' if c['target'] == 'predicted' else 'true label'}. "
        f"Deletion / insertion: {c['steps']} steps, baselines '{c['deletion_baseline']}' / "
        f"'{c['insertion_baseline']}'. "
        f"Score-CAM: chunk size {c['chunk_size']}"
        + (
            f", top {c['top_n']} channels (Faster Score-CAM)"
            if c["top_n"]
            else ", every channel"
        )
        + f". Stability: maps x 255 binarised at > {c['stability_threshold']}, IoU per image."
        + (
            f" Pointing game tolerance: {c['pointing_tolerance']} px; boxes: around each mask, "
            f"map threshold {c['box_threshold']}."
            if c["masks"]
            else ""
        ),
        "",
        (
            "Every map is at the input resolution, min-max normalised to [0, 1]. "
            "↓: lower is better, ↑: higher is better; the best value per column is bold."
        ),
        "",
        "## Models",
        "",
        "| model | kind | accuracy | methods |",
        "|---|---|---|---|",
    ]
    for name in evaluation.model_names:
        methods = ", ".join(METHOD_TITLES.get(m, m) for m in evaluation.methods[name])
        lines.append(
            f"| {name} | {evaluation.kinds[name]} | {_fmt(evaluation.accuracy[name])} | {methods} |"
        )
    for name in evaluation.model_names:
        lines += ["", f"## {name}", ""] + _metric_table(evaluation, name) + [""]
        for key in ("curves", "examples"):
            if (name, key) in figures:
                lines.append(f"![{key} of {name}]({figures[(name, key)]})")
    lines += ["", "## Stability across models", ""]
    if not evaluation.stability:
        lines.append("Needs at least two models with the same method.")
    for method, value in evaluation.stability.items():
        names = value["models"]
        matrix = np.asarray(value["matrix"])
        lines += [
            f"### {METHOD_TITLES.get(method, method)}: mean IoU {value['mean']:.3f}",
            "",
            "| | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        lines += [
            f"| {a} | "
            + " | ".join(f"{matrix[i, j]:.3f}" for j in range(len(names)))
            + " |"
            for i, a in enumerate(names)
        ]
        lines += ["", f"![stability of {method}]({figures[(method, 'stability')]})", ""]
    return "\n".join(lines) + "\n"


@lficam_export("lficam_tf.evaluation.write_report")
def write_report(
    evaluation,
    out_dir,
    images=None,
    labels=None,
    class_names=None,
    data_description="",
    examples=6,
):
    """Write `report.json`, `report.md` and the plots into `out_dir`.

    Plots: `curves_<model>.png` (deletion and insertion), `examples_<model>.png`
    (needs `images`: one row per image, one column per method),
    `stability_<method>.png` (methods run on at least two models).

    Args:
        evaluation: a `lficam_tf.evaluation.Evaluation`.
        out_dir: str or path. Created if absent.
        images: the evaluated images, for the example overlays, or None.
        labels: int `(num_images,)` or None, for the examples' titles.
        class_names: list of str or None.
        data_description: str. One line saying what the data is.
        examples: int. Example rows per model. Defaults to `6`.

    Returns:
        `{file name: path}` of everything written.
    """
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written, figures = {}, {}

    def save(figure, name):
        figure.savefig(out / name, dpi=100)
        written[name] = out / name
        return name

    for model in evaluation.model_names:
        figures[(model, "curves")] = save(
            plot_curves(evaluation, model), f"curves_{file_stem(model)}.png"
        )
        if images is not None and examples > 0:
            figures[(model, "examples")] = save(
                plot_examples(evaluation, model, images, labels, class_names, examples),
                f"examples_{file_stem(model)}.png",
            )
    for method in evaluation.stability:
        figures[(method, "stability")] = save(
            plot_stability(evaluation, method), f"stability_{file_stem(method)}.png"
        )
    data = evaluation.to_json()
    data["data"] = data_description
    data["class_names"] = None if class_names is None else list(class_names)
    data["figures"] = sorted(written)
    (out / "report.json").write_text(json.dumps(data, indent=2))
    written["report.json"] = out / "report.json"
    (out / "report.md").write_text(_markdown(evaluation, figures, data_description))
    written["report.md"] = out / "report.md"
    return written
