"""The report's figures: deletion / insertion curves, stability heat maps,
example overlays. Each returns a `matplotlib.figure.Figure` made without
pyplot (rendered with Agg when saved)."""

import numpy as np
from matplotlib.figure import Figure

from lficam_tf.api_export import lficam_export
from lficam_tf.evaluation.evaluate import METHOD_TITLES
from lficam_tf.explain import plot_explanations


def _title(method):
    return METHOD_TITLES.get(method, method)


@lficam_export("lficam_tf.evaluation.plot_curves")
def plot_curves(evaluation, model_name):
    """Mean deletion and insertion curves of every method on one model.

    Args:
        evaluation: a `lficam_tf.evaluation.Evaluation`.
        model_name: str, one of `evaluation.model_names`.

    Returns:
        A `Figure` with two panels (deletion: lower is better; insertion:
        higher is better), AUCs in the legends.
    """
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    axes = figure.subplots(1, 2)
    x = evaluation.fractions
    for axis, curve, better in zip(
        axes, ("deletion", "insertion"), ("lower", "higher")
    ):
        for method, curves in evaluation.curves[model_name].items():
            auc = evaluation.metrics[model_name][method][f"{curve}_auc"]
            axis.plot(x, curves[curve], label=f"{_title(method)} (AUC {auc:.3f})")
        axis.set_title(f"{curve.capitalize()} ({better} AUC is better)", fontsize=10)
        axis.set_xlabel(
            f"fraction of pixels {'removed' if curve == 'deletion' else 'inserted'}"
        )
        axis.set_ylabel("probability of the explained class")
        axis.set_xlim(0, 1)
        axis.legend(fontsize=8)
    figure.suptitle(model_name, fontsize=11)
    return figure


@lficam_export("lficam_tf.evaluation.plot_stability")
def plot_stability(evaluation, method):
    """The stability matrix of `method` as an annotated heat map.

    Entry (i, j): the mean IoU of models i's and j's thresholded maps of the
    same images (1 on the diagonal). Higher is more stable.
    """
    value = evaluation.stability[method]
    matrix, names = np.asarray(value["matrix"]), value["models"]
    size = 1.2 + 0.8 * len(names)
    figure = Figure(figsize=(size + 1.2, size), layout="constrained")
    axis = figure.subplots()
    image = axis.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
    axis.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    axis.set_yticks(range(len(names)), names, fontsize=8)
    for i in range(len(names)):
        for j in range(len(names)):
            axis.text(
                j,
                i,
                f"{matrix[i, j]:.2f}",
                ha="center",
                va="center",
                color="black" if matrix[i, j] > 0.5 else "white",
                fontsize=8,
            )
    figure.colorbar(image, ax=axis, label="IoU")
    axis.set_title(
        f"{_title(method)}: stability (mean IoU {value['mean']:.3f})", fontsize=10
    )
    return figure


@lficam_export("lficam_tf.evaluation.plot_examples")
def plot_examples(
    evaluation, model_name, images, labels=None, class_names=None, count=6
):
    """The first `count` images with every method's map, side by side.

    One row per image, one column per method; titles give the predicted
    class and probability and, with `labels`, the true class.
    """
    count = min(count, len(images))
    per_method = evaluation.explanations[model_name]
    maps = {_title(m): result.maps[:count] for m, result in per_method.items()}
    first = next(iter(per_method.values()))

    def name(index):
        return class_names[index] if class_names is not None else str(index)

    titles = []
    for i in range(count):
        predicted = int(first.predictions[i])
        title = f"pred: {name(predicted)} ({first.probabilities[i, predicted]:.2f})"
        if labels is not None:
            title += f"\ntrue: {name(int(labels[i]))}"
        titles.append(title)
    figure = plot_explanations(np.asarray(images)[:count], maps, titles=titles)
    figure.suptitle(model_name, fontsize=10)
    return figure
