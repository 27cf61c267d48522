"""Write the results JSON into docs/RESULTS.md as tables.

Each table of docs/RESULTS.md sits between `<!-- NAME:begin -->` and
`<!-- NAME:end -->` markers; this script rewrites those blocks from
`experiments/results/*.json` and leaves the prose around them alone. A table
whose JSON does not exist yet says which command produces it. Run it after
each experiment (run_study.py does).

    python experiments/tables.py
    python experiments/tables.py --results DIR --out FILE
"""

import argparse
import os
import pathlib
import sys

import faithfulness
import studylib

from lficam_tf.choices import METHOD_TITLES

STEPS = {
    "accuracy": "python experiments/accuracy.py",
    "stability-cifar10": "python experiments/stability.py --dataset cifar10",
    "stability-shapes": "python experiments/stability.py --dataset shapes",
    "localization": "python experiments/localization.py",
    "faithfulness-cifar10": "python experiments/faithfulness.py --dataset cifar10",
    "faithfulness-shapes": "python experiments/faithfulness.py --dataset shapes",
    "shipped": "python experiments/ship_checkpoints.py",
    "fin-width": "python experiments/fin_width.py",
}
DIRECTIONS = {
    "average_drop": "↓",
    "increase_in_confidence": "↑",
    "deletion_auc": "↓",
    "insertion_auc": "↑",
    "road_morf": "↓",
    "road_lerf": "↑",
    "road_combined": "↑",
    "energy_pointing_game": "↑",
    "pointing_game": "↑",
    "box_accuracy": "↑",
    "box_iou": "↑",
}
COLUMN_TITLES = {
    "average_drop": "Average Drop %",
    "increase_in_confidence": "Increase in Confidence %",
    "deletion_auc": "Deletion AUC",
    "insertion_auc": "Insertion AUC",
    "road_morf": "ROAD MoRF",
    "road_lerf": "ROAD LeRF",
    "road_combined": "ROAD (LeRF − MoRF)/2",
    "energy_pointing_game": "Energy pointing game",
    "pointing_game": "Pointing game",
    "box_accuracy": "Box localization (IoU ≥ 0.5)",
    "box_iou": "Box IoU",
}


def pending(name):
    return f"_Pending: run `{STEPS[name]}`._"


def _pct(value, std=None):
    if value is None:
        return "n/a"
    text = f"{100 * value:.2f}"
    if std is not None:
        text += f" ± {100 * std:.2f}"
    return text


def _num(value, digits=3):
    return "n/a" if value is None else f"{value:.{digits}f}"


def _size_note(data):
    return (
        ""
        if data.get("size") == "full"
        else f"\n\n_Size: {data.get('size')} (not the study)._"
    )


def _figure(path, out, title):
    link = os.path.relpath(pathlib.Path(path).resolve(), out.parent.resolve())
    return f"![{title}]({link})"


def accuracy_block(results, out):
    data = studylib.read_json(results / "accuracy.json")
    if data is None:
        return pending("accuracy")
    recipe = data["recipe"]
    lines = [
        f"`{data['backbone']}` on CIFAR-10 (this repository's JPEG copy), "
        f"{recipe['epochs']} epochs, SGD lr {recipe['learning_rate']:g} momentum 0.9, "
        f"{recipe['schedule']} schedule, weight decay {recipe['weight_decay']:g} "
        f"({recipe['weight_decay_mode']}), batch {recipe['batch_size']}, "
        f"augmentation '{recipe['augmentation']}'. Test accuracy on the "
        "10,000 test images (%), mean ± sample standard deviation over seeds.",
        "",
        "| head | seeds | final test accuracy | best epoch's test accuracy | per seed (final) | training images/s | wall time per run |",
        "|---|---|---|---|---|---|---|",
    ]
    for head, row in data["heads"].items():
        if not row["runs"]:
            lines.append(f"| {studylib.HEAD_TITLES[head]} | 0 | pending | | | | |")
            continue
        lines.append(
            f"| {studylib.HEAD_TITLES[head]} | {len(row['runs'])} "
            f"| {_pct(row['test_accuracy_mean'], row['test_accuracy_std'])} "
            f"| {_pct(row['best_test_accuracy_mean'], row['best_test_accuracy_std'])} "
            f"| {', '.join(_pct(v) for v in row['test_accuracy'])} "
            f"| {row['train_images_per_second_mean']:.0f} "
            f"| {row['wall_seconds_mean'] / 60:.0f} min |"
        )
    heads = data["heads"]
    if heads["lficam"]["runs"] and heads["baseline"]["runs"]:
        gap = (
            heads["lficam"]["test_accuracy_mean"]
            - heads["baseline"]["test_accuracy_mean"]
        )
        lines += [
            "",
            f"LFI-CAM minus baseline: {100 * gap:+.2f} points (final accuracy, "
            "mean over seeds).",
        ]
    fit = studylib.read_json(results / "fit_check.json")
    if fit and fit["rows"]:
        lines += [
            "",
            "Fitted or not (`experiments/fit_check.py`): accuracy without augmentation "
            f"on {fit['rows'][0]['train_images']:,} training images ({fit['train_slice']}) "
            "beside the test images. Close to test and far from 100 %: the budget or "
            "the model limits the accuracy; far above test: overfitting.",
            "",
            "| run | training images | test images | gap |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{row['run']}` | {_pct(row['train_accuracy'])} | {_pct(row['test_accuracy'])} "
            f"| {100 * row['gap']:+.2f} |"
            for row in fit["rows"]
        ]
    if not data["complete"]:
        lines += ["", f"_Incomplete: {len(data['planned_runs'])} runs planned._"]
    return "\n".join(lines) + _size_note(data)


def stability_block(results, out, dataset):
    data = studylib.read_json(results / f"stability_{dataset}.json")
    if data is None:
        return pending(f"stability-{dataset}")
    paper = data.get("paper") or {}
    protocol = data["protocol"]
    models = len(next(iter(data["stability"].values()))["models"])
    planned = studylib.SIZES["full"].variants
    lines = [
        f"{protocol['num_images']} fixed test images; maps x255 binarised at "
        f"> {protocol['threshold']}; IoU per image, averaged over images, then "
        f"over the {models * (models - 1) // 2} model pairs. Area: the mean share "
        "of pixels above the threshold (a map that marks everything overlaps "
        "everything).",
        "",
    ]
    if data.get("size") == "full" and models < planned:
        lines += [
            f"_Interim: {models} of the {planned} models per method so far "
            f"(`{data['command']}`); `python experiments/run_study.py` trains "
            "the rest and recomputes this table._",
            "",
        ]
    lines += [
        "| maps | models | mean IoU (ours) | paper | spread over pairs (std) | per-image IoU quartiles | area above threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, value in data["stability"].items():
        paper_value = paper.get(key)
        quartiles = ", ".join(f"{q:.2f}" for q in value["per_image_quartiles"])
        area = sum(value["area_above_threshold"]) / len(value["area_above_threshold"])
        lines.append(
            f"| {data['titles'][key]} | {len(value['models'])} | **{value['mean']:.3f}** "
            f"| {_num(paper_value, 2) if paper_value is not None else '—'} "
            f"| {value['per_pair_std']:.3f} | {quartiles} | {area:.2f} |"
        )
    lines += ["", "Models (test accuracy on the fixed images):", ""]
    lines += [
        f"- `{name}`: {_pct(acc)} %" for name, acc in data["accuracy_on_images"].items()
    ]
    for key, value in data["stability"].items():
        names = value["models"]
        lines += [
            "",
            f"{data['titles'][key]}, IoU matrix:",
            "",
            "| | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for name, row in zip(names, value["matrix"]):
            lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    lines.append("")
    lines += [
        _figure(path, out, pathlib.Path(path).stem)
        for path in (studylib.REPO / p for p in data["figures"])
    ]
    return "\n".join(lines) + _size_note(data)


def metrics_block(results, out, name, file_name, keys):
    data = studylib.read_json(results / file_name)
    if data is None:
        return pending(name)
    header = ["model", "method"] + [f"{COLUMN_TITLES[k]} {DIRECTIONS[k]}" for k in keys]
    road = data.get("road_percentages")
    lines = [
        f"{data['num_images']} fixed test images of {data['image_size'][0]}x"
        f"{data['image_size'][1]}; each model explains its "
        f"{'prediction' if data['explained_class'] == 'predicted' else 'true label'}. "
        "↓ lower is better, ↑ higher is better. The first rows are the "
        "comparison the paper makes; the rows after them apply the post-hoc "
        "methods to the LFI-CAM and ABN models themselves.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in data["rows"]:
        cells = [
            f"{studylib.HEAD_TITLES[row['model']]} model",
            METHOD_TITLES[row["method"]],
        ]
        for key in keys:
            digits = 2 if key in ("average_drop", "increase_in_confidence") else 3
            cells.append(_num(row[key], digits))
        if row["primary"]:
            cells[1] = f"**{cells[1]}**"
        lines.append("| " + " | ".join(cells) + " |")
    if road and any(key.startswith("road") for key in keys):
        lines += [
            "",
            "ROAD (Rong et al., ICML 2022) removes "
            + ", ".join(f"{p:g}" for p in road)
            + " % of the pixels, most relevant first (MoRF) or least relevant "
            "first (LeRF), fills them by noisy linear imputation and reads the "
            "class probability: unlike deletion's black pixels, the filled "
            "region does not show the mask's shape to the classifier.",
        ]
    if data.get("mask_fraction") is not None:
        lines += [
            "",
            f"The masks cover {data['mask_fraction']:.3f} of the images: a map "
            "blind to the object scores about that in the energy pointing game.",
        ]
    lines += [
        "",
        "Accuracy of the models on these images: "
        + ", ".join(
            f"{studylib.HEAD_TITLES[m]} {_pct(a)} %"
            for m, a in data["accuracy_on_images"].items()
        )
        + ".",
    ]
    report = pathlib.Path(studylib.REPO / data["report"])
    shown = report.parent / "figures"
    figures = [shown / f"compare_{data['dataset']}.png"]
    figures += sorted(shown.glob(f"compare_{data['dataset']}_*.png"))
    figures += sorted(report.glob("curves_*.png"))
    lines.append("")
    lines += [_figure(p, out, p.stem) for p in figures if p.is_file()]
    return "\n".join(lines) + _size_note(data)


def shipped_block(results, out):
    data = studylib.read_json(results / "shipped.json")
    if data is None or not data["manifest"]:
        return pending("shipped")
    import ship_checkpoints

    return ship_checkpoints.readme_table(data["manifest"])


def wall_time_block(results, out):
    runs = sorted((results / "runs").glob("*/*.json"))
    if not runs:
        return "_Pending: no run has finished._"
    import json

    records = [json.loads(p.read_text()) for p in runs]
    lines = [
        "| dataset | run | head | lr | weight decay | batch | seed | epochs | final test accuracy | training images/s | wall time |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        recipe = r["recipe"]
        lines.append(
            f"| {r['dataset']} | `{r['run']}` | {studylib.HEAD_TITLES[r['head']]} "
            f"| {recipe['learning_rate']:g} | {recipe['weight_decay']:g} "
            f"| {recipe['batch_size']} | {recipe['seed']} | {recipe['epochs']} "
            f"| {_pct(r['test_accuracy'])} "
            f"| {r['train_images_per_second'] or 0:.0f} | {r['wall_seconds'] / 60:.1f} min |"
        )
    train = sum(r["wall_seconds"] for r in records)
    evals = 0.0
    for name in ("eval_cifar10", "eval_shapes"):
        report = studylib.read_json(results / name / "report.json")
        if report is not None:
            evals += report.get("eval_seconds", 0.0)
    machine = None
    for name in ("accuracy.json", "stability_cifar10.json", "stability_shapes.json"):
        data = studylib.read_json(results / name)
        if data is not None:
            machine = data["machine"]
            break
    lines += [
        "",
        f"Training: {len(records)} runs, {train / 3600:.2f} h in all; scoring "
        f"the maps (localization, faithfulness): {evals / 60:.0f} min.",
    ]
    if machine is not None:
        lines.append(
            f"Machine: {machine['cpu']}, {machine['cores']} cores, "
            f"{machine['gpus']} GPUs; TensorFlow {machine['tensorflow']}, "
            f"Keras {machine['keras']}, Python {machine['python']}."
        )
    return "\n".join(lines)


def fin_width_block(results, out):
    data = studylib.read_json(results / "fin_width.json")
    if data is None:
        return pending("fin-width")
    lines = [
        "Two seeds per FIN, the same recipe otherwise (the study's base recipe of "
        "each dataset). Accuracy: the whole test split; energy pointing game and "
        "the stability IoU between the two seeds' maps: the fixed stability "
        "images; Average Drop: the first evaluation images. Mean over the two "
        "seeds (± sample standard deviation).",
        "",
        "| comparison | FIN | FIN parameters | test accuracy % | energy pointing game ↑ "
        "| stability IoU (2 seeds) ↑ | Average Drop % ↓ | training images/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    figures, differences = [], []
    for comp in data["comparisons"].values():
        for arm in ("full", "narrow"):
            row = comp["arms"][arm]
            width = row["fin_width"]
            label = "paper (K -> K)" if width is None else f"bottleneck, width {width}"
            epg = (
                f"{_num(row['energy_pointing_game'])} ± {_num(row['energy_pointing_game_std'])}"
                if row.get("energy_pointing_game") is not None
                else "n/a (no masks)"
            )
            speed = sum(r["train_images_per_second"] or 0 for r in row["runs"]) / len(
                row["runs"]
            )
            lines.append(
                f"| {comp['backbone']} on {comp['dataset']} @{comp['image_size'][0]} "
                f"| {label} | {row['fin_parameters']:,} "
                f"| {_pct(row['test_accuracy'], row['test_accuracy_std'])} | {epg} "
                f"| {_num(row['stability_iou'])} "
                f"| {_num(row['average_drop'], 2)} ± {_num(row['average_drop_std'], 2)} "
                f"| {speed:.0f} |"
            )
        diff = comp["narrow_minus_full"]
        parts = [f"accuracy {100 * diff['test_accuracy']:+.2f} points"]
        if "energy_pointing_game" in diff:
            parts.append(f"pointing {diff['energy_pointing_game']:+.3f}")
        parts += [
            f"stability {diff['stability_iou']:+.3f}",
            f"Average Drop {diff['average_drop']:+.2f} points",
        ]
        differences.append(f"- {comp['title']}: narrow − paper: {'; '.join(parts)}.")
        figures.append(_figure(studylib.REPO / comp["figure"], out, comp["title"]))
    lines += [""] + differences + [""] + figures
    return "\n".join(lines) + _size_note(data)


def blocks(results, out):
    """`{marker name: markdown}` of every table."""
    return {
        "accuracy": accuracy_block(results, out),
        "stability-cifar10": stability_block(results, out, "cifar10"),
        "stability-shapes": stability_block(results, out, "shapes"),
        "localization": metrics_block(
            results,
            out,
            "localization",
            "localization.json",
            ("energy_pointing_game", "pointing_game", "box_accuracy", "box_iou"),
        ),
        "faithfulness-cifar10": metrics_block(
            results,
            out,
            "faithfulness-cifar10",
            "faithfulness_cifar10.json",
            faithfulness.KEYS,
        ),
        "faithfulness-shapes": metrics_block(
            results,
            out,
            "faithfulness-shapes",
            "faithfulness_shapes.json",
            faithfulness.KEYS,
        ),
        "shipped": shipped_block(results, out),
        "fin-width": fin_width_block(results, out),
        "runs": wall_time_block(results, out),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--results",
        metavar="DIR",
        default=str(studylib.RESULTS),
        help="the results folder (default: experiments/results)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        default=str(studylib.REPO / "docs" / "RESULTS.md"),
        help="the Markdown file with the markers (default: docs/RESULTS.md)",
    )
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    text = out.read_text()
    for name, content in blocks(pathlib.Path(args.results), out).items():
        text = studylib.replace_block(text, name, content)
    out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
