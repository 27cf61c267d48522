"""The metrics of the explanations (localization.py, faithfulness.py): every
method of the package scored on the three seed-0 models of a dataset by
`lficam_tf.evaluation.evaluate`, the report they share, and its rows."""

import json
import time

from lficam_tf.choices import METHOD_TITLES
from studylib.datasets import test_images
from studylib.results_io import read_json, save_figure, write_json
from studylib.runs import HEAD_TITLES, evaluation_specs
from studylib.trained_runs import ensure_trained, load_run_model

#: The rows the issue asks for: each head's own map, post-hoc on the baseline.
PRIMARY_ROWS = (
    ("lficam", "lficam"),
    ("abn", "abn"),
    ("baseline", "gradcam"),
    ("baseline", "gradcam++"),
    ("baseline", "scorecam"),
)


def evaluation_piece(
    study, dataset, head, model, method, images, labels, masks, wanted
):
    """The `Evaluation` of one model and method, saved as it finishes so
    that a killed evaluation resumes (`evaluation_report` merges the pieces).

    A piece is its report as JSON (metrics, curves, the explained classes:
    a few kB, committed with the results, `eval_<dataset>/pieces/`) and its
    maps and probabilities as .npz beside the run folders (MBs, not
    committed). A piece whose JSON has the same settings is not scored
    again; without its .npz (a fresh checkout) its maps are explained again
    for the same classes, which costs one `explain` call, not the metrics.
    """
    import numpy as np

    from lficam_tf.evaluation.evaluate import Evaluation, evaluate
    from lficam_tf.explain import Explanation, explain

    stem = f"{head}-{method}"
    report = study.results / f"eval_{dataset}" / "pieces" / f"{stem}.json"
    arrays = study.runs / f"eval_{dataset}_pieces" / f"{stem}.npz"
    saved = read_json(report)
    if saved is None or saved.get("study") != wanted:
        study.say(f"{head}: {method}")
        evaluation = evaluate(
            [model],
            images,
            labels=labels,
            masks=masks,
            model_names=[head],
            methods=[method],
            target="predicted",
            batch_size=study.size.batch_size,
            steps=study.size.steps,
            road_percentages=study.size.road_percentages,
        )
        explanation = evaluation.explanations[head][method]
        _save_maps(arrays, explanation)
        write_json(
            report,
            {
                **evaluation.to_json(),
                "layer": explanation.layer,
                "class_index": explanation.class_index,
                "study": wanted,
            },
        )
        return evaluation
    if arrays.is_file():
        with np.load(arrays) as data:
            explanation = Explanation(
                maps=data["maps"],
                probabilities=data["probabilities"],
                class_index=data["class_index"],
                method=method,
                layer=saved["layer"],
            )
    else:
        study.say(f"{head}: {method} (maps only; its scores are saved)")
        explanation = explain(
            model,
            images,
            method=method,
            class_index=np.asarray(saved["class_index"]),
            batch_size=study.size.batch_size,
        )
        _save_maps(arrays, explanation)
    curves = saved["curves"]
    return Evaluation(
        model_names=[head],
        kinds={head: saved["models"][0]["kind"]},
        accuracy={head: saved["models"][0]["accuracy"]},
        methods={head: [method]},
        metrics=saved["metrics"],
        curves={
            head: {method: {k: np.asarray(v) for k, v in curves[head][method].items()}}
        },
        fractions=np.asarray(curves["fractions"]),
        stability={},
        explanations={head: {method: explanation}},
        config=saved["config"],
    )


def _save_maps(path, explanation):
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        maps=explanation.maps,
        probabilities=explanation.probabilities,
        class_index=explanation.class_index,
    )
    tmp.replace(path)


def evaluation_report(study, dataset):
    """Every metric of every method on the three models of `dataset`.

    Runs `lficam_tf.evaluation.evaluate` (the library of `lficam-eval`) on
    the first test images of a fixed order and writes its report (JSON,
    Markdown, curves, example maps) to `<results>/eval_<dataset>/`, plus
    the same images explained by every model and method side by side in
    `<results>/figures/compare_<dataset>.png`. An existing report of the same
    models and settings is read instead (localization.py and
    faithfulness.py share it).

    Returns:
        The dict of `report.json`.
    """
    specs = evaluation_specs(study.size, dataset)
    records = {spec.head: ensure_trained(study, spec) for spec in specs}
    folder = study.results / f"eval_{dataset}"
    wanted = {
        "num_images": study.size.eval_images[dataset],
        "steps": study.size.steps,
        "methods": list(study.size.eval_methods),
        "road_percentages": list(study.size.road_percentages),
        "runs": {head: record["run"] for head, record in records.items()},
        "finished": {head: record["finished"] for head, record in records.items()},
    }
    report = read_json(folder / "report.json")
    if report is not None and report.get("study") == wanted:
        return report

    # The submodules: `lficam_tf.evaluation.evaluate` is also a module name.
    from lficam_tf.evaluation.evaluate import merge_evaluations, methods_for
    from lficam_tf.evaluation.report import write_report
    from lficam_tf.explain import plot_explanations

    models = [load_run_model(study, spec) for spec in specs]
    size = records["lficam"]["image_size"]
    images, labels, masks, class_names = test_images(
        study, dataset, size, wanted["num_images"]
    )
    start = time.perf_counter()
    study.say(f"{dataset}: scoring {wanted['methods']} on {len(images)} images")
    # One piece per model and method, each saved as it finishes: a killed
    # evaluation resumes from the pieces done (`merge_evaluations`).
    pieces = []
    for spec, model in zip(specs, models):
        for method in methods_for(model, wanted["methods"]):
            pieces.append(
                evaluation_piece(
                    study,
                    dataset,
                    spec.head,
                    model,
                    method,
                    images,
                    labels,
                    masks,
                    {
                        **wanted,
                        "runs": wanted["runs"][spec.head],
                        "finished": wanted["finished"][spec.head],
                    },
                )
            )
    evaluation = merge_evaluations(pieces)
    seconds = time.perf_counter() - start
    write_report(
        evaluation,
        folder,
        images,
        labels,
        class_names,
        f"{dataset} test split, first {len(images)} images of a fixed order (seed 0)",
        examples=min(6, len(images)),
    )
    # One figure per model (its methods side by side), and the model's own
    # map beside Grad-CAM on every model in one.
    for head, per_method in evaluation.explanations.items():
        columns = {
            METHOD_TITLES[m]: result.maps[:6] for m, result in per_method.items()
        }
        figure = plot_explanations(images[:6], columns, cell_size=1.3)
        figure.suptitle(
            f"{dataset}: the same test images explained by every method "
            f"({HEAD_TITLES[head]} model)",
            fontsize=10,
        )
        save_figure(figure, study.figures / f"compare_{dataset}_{head}.png")
    columns = {
        f"{METHOD_TITLES[method]}\n({HEAD_TITLES[head]} model)": result.maps[:6]
        for head, per_method in evaluation.explanations.items()
        for method, result in per_method.items()
        if method in ("lficam", "abn", "gradcam")
    }
    figure = plot_explanations(images[:6], columns, cell_size=1.3)
    figure.suptitle(
        f"{dataset}: the same test images, each model's own map and Grad-CAM",
        fontsize=10,
    )
    save_figure(figure, study.figures / f"compare_{dataset}.png")
    report = json.loads((folder / "report.json").read_text())
    report["study"] = wanted
    report["eval_seconds"] = seconds
    report["mask_fraction"] = None if masks is None else float(masks.mean())
    report["model_records"] = records
    write_json(folder / "report.json", report)
    return report


def metric_rows(report, keys):
    """Rows `{model, method, primary, <key>: value}` of a report, primary first."""
    rows = []
    for model, per_method in report["metrics"].items():
        for method, values in per_method.items():
            rows.append(
                {
                    "model": model,
                    "method": method,
                    "primary": (model, method) in PRIMARY_ROWS,
                    **{key: values.get(key) for key in keys},
                }
            )
    order = {row: i for i, row in enumerate(PRIMARY_ROWS)}
    rows.sort(key=lambda r: (not r["primary"], order.get((r["model"], r["method"]), 0)))
    return rows
