"""`evaluate`: every metric for every method on every model, on the same images.

For each model the maps of every applicable method are computed with
`lficam_tf.explain` (LFI-CAM's own map for LFI-CAM models, ABN's for ABN
models, Grad-CAM, Grad-CAM++ and Score-CAM for every model), all for the
same explained class (the model's prediction, or the true label), then
scored with `lficam_tf.metrics`:

- Average Drop % (lower is better) and Increase in Confidence % (higher);
- Deletion AUC (lower) and Insertion AUC (higher), RISE;
- ROAD MoRF (lower), LeRF (higher) and (LeRF - MoRF) / 2 (higher): removal
  with noisy linear imputation (Rong et al., ICML 2022), which does not leak
  the removed region's shape as deletion's black pixels do;
- where object masks exist: pointing game and energy-based pointing game
  (higher), and box localization (IoU >= 0.5 with the box around the mask,
  higher);
- across models, per method: the stability matrix (IoU of the same images'
  thresholded maps, higher), METHOD.md section 6 item 3.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from lficam_tf import metrics
from lficam_tf.api_export import lficam_export
from lficam_tf.checks import warn_if_scaled
from lficam_tf.choices import METHOD_TITLES, TARGETS  # noqa: F401 (the report's)
from lficam_tf.explain import CAM_METHODS, get_explainer, method_options
from lficam_tf.explain.classifier_outputs import scores_model
from lficam_tf.explain.explanation import explain_checked
from lficam_tf.explain.images import check_images
from lficam_tf.metrics.road import PERCENTAGES as ROAD_PERCENTAGES
from lficam_tf.models.outputs import model_kind, native_method

#: Metrics in report order: (key, title, "higher" or "lower" is better).
METRICS = (
    ("average_drop", "Average Drop %", "lower"),
    ("increase_in_confidence", "Increase in Confidence %", "higher"),
    ("deletion_auc", "Deletion AUC", "lower"),
    ("insertion_auc", "Insertion AUC", "higher"),
    ("road_morf", "ROAD MoRF", "lower"),
    ("road_lerf", "ROAD LeRF", "higher"),
    ("road_combined", "ROAD (LeRF - MoRF) / 2", "higher"),
    ("pointing_game", "Pointing game", "higher"),
    ("energy_pointing_game", "Energy pointing game", "higher"),
    ("box_accuracy", "Box localization (IoU >= 0.5)", "higher"),
    ("box_iou", "Box IoU", "higher"),
)
#: The methods `evaluate` runs when `methods` is None; every other name of
#: `lficam_tf.choices.METHODS` is run when asked for.
DEFAULT_METHODS = ("native", "gradcam", "gradcam++", "scorecam")


def methods_for(model, methods=None):
    """The methods of `methods` (default: `DEFAULT_METHODS`) that apply to
    `model`, resolved.

    `"native"` becomes the model's own map (`"lficam"` or `"abn"`) and is
    dropped for models without one; `"lficam"` / `"abn"` only apply to that
    kind of model.
    """
    kind = native_method(model)
    requested = DEFAULT_METHODS if methods is None else tuple(methods)
    resolved = []
    for method in requested:
        if method == "native":
            method = kind
        elif method in ("lficam", "abn") and method != kind:
            method = None
        if method is not None and method not in resolved:
            resolved.append(method)
    return resolved


def boxes_from_masks(masks):
    """Boxes [y_min, x_min, y_max, x_max] (pixel edges) around each mask.

    An empty mask gives [0, 0, 0, 0].
    """
    masks = np.asarray(masks, bool)
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    boxes = np.zeros((len(masks), 4), "float32")
    for i in range(len(masks)):
        if rows[i].any():
            r, c = np.flatnonzero(rows[i]), np.flatnonzero(cols[i])
            boxes[i] = [r[0], c[0], r[-1] + 1, c[-1] + 1]
    return boxes


def make_predict_fn(model, batch_size=64):
    """images -> softmax probabilities (numpy), compiled once, batched."""
    scores = scores_model(model)
    shape = tuple(scores.model.inputs[0].shape)

    @tf.function(input_signature=[tf.TensorSpec((None,) + shape[1:], tf.float32)])
    def probabilities(images):
        out = tf.cast(scores.model(images, training=False), tf.float32)
        return out if scores.are_probabilities else tf.nn.softmax(out)

    def predict_fn(images):
        images = np.asarray(images, "float32")
        return np.concatenate(
            [
                probabilities(images[i : i + batch_size]).numpy()
                for i in range(0, len(images), batch_size)
            ]
        )

    return predict_fn


@lficam_export("lficam_tf.evaluation.Evaluation")
@dataclasses.dataclass
class Evaluation:
    """What `evaluate` returns.

    Attributes:
        model_names: list of str, one per model.
        kinds: `{model: "lficam" | "abn" | "baseline" | "keras"}`.
        accuracy: `{model: float}` on the images (None without labels).
        methods: `{model: [method, ...]}`, the methods run on each model.
        metrics: `{model: {method: {metric: float}}}`, see `METRICS`.
        curves: `{model: {method: {"deletion": (steps + 1,), "insertion":
            (steps + 1,)}}}`, mean curves; `fractions` `(steps + 1,)`.
        stability: `{method: {"models": [...], "matrix": (N, N), "mean":
            float}}` for every method run on at least two models.
        explanations: `{model: {method: lficam_tf.explain.Explanation}}`.
        config: dict, the settings used.
    """

    model_names: list
    kinds: dict
    accuracy: dict
    methods: dict
    metrics: dict
    curves: dict
    fractions: np.ndarray
    stability: dict
    explanations: dict
    config: dict

    def to_json(self):
        """The report as JSON-ready data (no maps)."""
        return {
            "config": self.config,
            "models": [
                {
                    "name": name,
                    "kind": self.kinds[name],
                    "accuracy": self.accuracy.get(name),
                    "methods": self.methods[name],
                }
                for name in self.model_names
            ],
            "metric_directions": {key: better for key, _, better in METRICS},
            "metrics": self.metrics,
            "curves": {
                "fractions": self.fractions.tolist(),
                **{
                    model: {
                        m: {k: v.tolist() for k, v in c.items()} for m, c in per.items()
                    }
                    for model, per in self.curves.items()
                },
            },
            "stability": {
                method: {**value, "matrix": np.asarray(value["matrix"]).tolist()}
                for method, value in self.stability.items()
            },
        }


def _check_inputs(models, images, labels, masks, model_names, target):
    if not isinstance(models, (list, tuple)) or not models:
        raise ValueError(
            "`models` must be a non-empty list of classifiers. "
            f"Received: models={type(models).__name__}"
        )
    images = check_images(images).astype("float32", copy=False)
    sizes = {tuple(m.inputs[0].shape[1:3]) for m in models}
    if len(sizes) != 1 or sizes != {images.shape[1:3]}:
        raise ValueError(
            "`models` must all take the images' size, so that their maps can be "
            f"compared. Received: model input sizes {sorted(map(str, sizes))}, "
            f"images of size {images.shape[1:3]}"
        )
    if labels is not None:
        labels = np.asarray(labels).astype("int32")
        if labels.shape != (len(images),):
            raise ValueError(
                f"`labels` must have one entry per image, ({len(images)},). "
                f"Received: labels.shape={labels.shape}"
            )
    if masks is not None:
        masks = np.asarray(masks, bool)
        if masks.shape != images.shape[:3]:
            raise ValueError(
                f"`masks` must be (num_images, height, width) = {images.shape[:3]}. "
                f"Received: masks.shape={masks.shape}"
            )
    if target not in TARGETS:
        raise ValueError(
            f"`target` must be one of {TARGETS}. Received: target={target!r}"
        )
    if target == "label" and labels is None:
        raise ValueError(
            "`labels` must be given with target='label'. Received: labels=None"
        )
    if model_names is None:
        model_names = [m.name for m in models]
    model_names = list(model_names)
    if len(model_names) != len(models) or len(set(model_names)) != len(model_names):
        raise ValueError(
            "`model_names` must give each model a distinct name. "
            f"Received: model_names={model_names!r} for {len(models)} models"
        )
    return images, labels, masks, model_names


@lficam_export("lficam_tf.evaluation.evaluate")
def evaluate(
    models,
    images,
    labels=None,
    masks=None,
    model_names=None,
    methods=None,
    target="predicted",
    batch_size=32,
    steps=50,
    deletion_baseline="zeros",
    insertion_baseline="blur",
    chunk_size=32,
    top_n=None,
    stability_threshold=100,
    box_threshold=0.15,
    pointing_tolerance=None,
    road=True,
    road_percentages=None,
    road_noise=2.55,
    progress=None,
    **explainer_options,
):
    """Score every applicable method on every model with every metric.

    Args:
        models: list of classifiers of the same input size (`.keras` models
            of this package, or any Keras classifier).
        images: float RGB 0..255, `(num_images, height, width, 3)`.
        labels: int `(num_images,)` or None. For the accuracy, and for
            `target="label"`.
        masks: bool `(num_images, height, width)` or None. The objects'
            masks: pointing games and box localization run only with them.
        model_names: list of str or None. Defaults to the models' names.
        methods: list of method names (`lficam_tf.explain.METHODS`) or None
            for all (`"native"`, Grad-CAM, Grad-CAM++, Score-CAM). Methods
            that do not apply to a model are skipped for it.
        target: `"predicted"` (explain each model's prediction) or
            `"label"` (the true class). Defaults to `"predicted"`.
        batch_size: int. Images per forward pass. Defaults to `32`.
        steps: int. Deletion / insertion steps. Defaults to `50`.
        deletion_baseline: what deleted pixels become (`"zeros"`,
            `"blur"`, `"mean"`). Defaults to `"zeros"` (RISE).
        insertion_baseline: the image pixels are inserted into. Defaults to
            `"blur"` (RISE).
        chunk_size: int. Score-CAM's masked images per pass. Defaults to `32`.
        top_n: int or None. Faster Score-CAM's channel count. Defaults to
            `None`.
        stability_threshold: number in [0, 255]. Defaults to `100` (the
            LFI-CAM paper's).
        box_threshold: float. Box localization's map threshold. Defaults to
            `0.15`.
        pointing_tolerance: int or None. The pointing game's tolerance in
            pixels. None scales Zhang et al.'s 15 pixels at 224x224 to the
            images: round(15 * min(height, width) / 224) (2 at 32x32; 15 px
            would accept almost any point of a 32x32 image). Defaults to
            `None`.
        road: bool. Score ROAD too (B * (2 P + 1) more predictions and
            2 P sparse solves per image and method). Defaults to `True`.
        road_percentages: ROAD's percentages of removed pixels, or None for
            `lficam_tf.metrics.road.PERCENTAGES` (10, 20, ..., 90, the
            paper's). Defaults to `None`.
        road_noise: float. ROAD's imputation noise in pixel units (0..255).
            Defaults to `2.55`.
        progress: callable `(message)` or None, called before each model and
            method.
        **explainer_options: the other options of `lficam_tf.explain.explain`
            (`layer`, `masking`, `reshape_transform`, `aug_smooth`,
            `eigen_smooth`, `strip_softmax`), given to each method that takes
            them (`lficam_tf.explain.method_options`).

    Returns:
        An `Evaluation`.

    Example:

    >>> import numpy as np, lficam_tf
    >>> from lficam_tf.evaluation import evaluate
    >>> model = lficam_tf.build_model("cifar_resnet20", 10, name="lficam")
    >>> result = evaluate([model], np.random.uniform(0, 255, (2, 32, 32, 3)),
    ...                   methods=["native", "gradcam"], steps=4)
    >>> result.methods["lficam"], sorted(result.metrics["lficam"]["gradcam"])[:2]
    (['lficam', 'gradcam'], ['average_drop', 'deletion_auc'])
    """
    images, labels, masks, model_names = _check_inputs(
        models, images, labels, masks, model_names, target
    )
    warn_if_scaled(images)  # Once per call: 0..1 images pass every check.
    boxes = boxes_from_masks(masks) if masks is not None else None
    if road_percentages is None:
        road_percentages = ROAD_PERCENTAGES
    if pointing_tolerance is None:
        pointing_tolerance = round(15 * min(images.shape[1:3]) / 224)
    say = progress or (lambda message: None)
    options = {"chunk_size": chunk_size, "top_n": top_n, **explainer_options}
    kinds, accuracy, run, scores, curves, explanations = {}, {}, {}, {}, {}, {}
    fractions = None
    for name, model in zip(model_names, models):
        kinds[name] = model_kind(model)
        run[name] = methods_for(model, methods)
        if not run[name]:
            raise ValueError(
                f"`methods` must include one that applies to model {name!r} (a "
                f"{kinds[name]} model). Received: methods={methods!r}. Post-hoc "
                f"methods {tuple(CAM_METHODS)} apply to every model."
            )
        predict_fn = make_predict_fn(model, batch_size)
        probabilities = predict_fn(images)
        predicted = probabilities.argmax(-1)
        accuracy[name] = None if labels is None else float(np.mean(predicted == labels))
        class_index = labels if target == "label" else predicted
        scores[name], curves[name], explanations[name] = {}, {}, {}
        for method in run[name]:
            say(f"{name}: {method}")
            explainer = get_explainer(
                model,
                method,
                **method_options(method, options),
            )
            result = explain_checked(explainer, images, class_index, batch_size)
            explanations[name][method] = result
            maps, target_class = result.maps, result.class_index
            change = metrics.confidence_change(
                predict_fn, images, maps, target_class, batch_size=batch_size
            )
            deletion = metrics.deletion_auc(
                predict_fn,
                images,
                maps,
                target_class,
                steps=steps,
                baseline=deletion_baseline,
                batch_size=batch_size,
            )
            insertion = metrics.insertion_auc(
                predict_fn,
                images,
                maps,
                target_class,
                steps=steps,
                baseline=insertion_baseline,
                batch_size=batch_size,
            )
            fractions = deletion.fractions
            values = {
                "average_drop": change.average_drop,
                "increase_in_confidence": change.increase_in_confidence,
                "deletion_auc": deletion.mean_auc,
                "insertion_auc": insertion.mean_auc,
            }
            if road:
                removal = metrics.road(
                    predict_fn,
                    images,
                    maps,
                    target_class,
                    percentages=road_percentages,
                    noise=road_noise,
                    batch_size=batch_size,
                )
                values["road_morf"] = removal.morf_mean
                values["road_lerf"] = removal.lerf_mean
                values["road_combined"] = removal.combined
            if masks is not None:
                values["pointing_game"] = float(
                    np.mean(
                        metrics.pointing_game(
                            maps, masks=masks, tolerance=pointing_tolerance
                        )
                    )
                )
                values["energy_pointing_game"] = float(
                    np.mean(metrics.energy_pointing_game(maps, masks=masks))
                )
                boxes_result = metrics.box_localization(
                    maps, boxes, threshold=box_threshold
                )
                values["box_accuracy"] = boxes_result.accuracy
                values["box_iou"] = float(np.mean(boxes_result.iou))
            scores[name][method] = values
            curves[name][method] = {
                "deletion": deletion.curves.mean(axis=0),
                "insertion": insertion.curves.mean(axis=0),
            }
    stability = _stability(model_names, run, explanations, stability_threshold)
    config = {
        "num_images": len(images),
        "image_size": list(images.shape[1:3]),
        "target": target,
        "steps": steps,
        "deletion_baseline": deletion_baseline,
        "insertion_baseline": insertion_baseline,
        "road_percentages": list(road_percentages) if road else None,
        "road_noise": road_noise if road else None,
        "chunk_size": chunk_size,
        "top_n": top_n,
        "explainer_options": {  # a reshape_transform callable by its name
            name: getattr(value, "__name__", repr(value)) if callable(value) else value
            for name, value in explainer_options.items()
        },
        "stability_threshold": stability_threshold,
        "box_threshold": box_threshold,
        "pointing_tolerance": pointing_tolerance,
        "masks": masks is not None,
    }
    return Evaluation(
        model_names=model_names,
        kinds=kinds,
        accuracy=accuracy,
        methods=run,
        metrics=scores,
        curves=curves,
        fractions=np.asarray(fractions),
        stability=stability,
        explanations=explanations,
        config=config,
    )


def _stability(model_names, run, explanations, threshold):
    """`Evaluation.stability`: per method run on >= 2 models, their IoU matrix."""
    stability = {}
    all_methods = []
    for name in model_names:
        all_methods += [m for m in run[name] if m not in all_methods]
    for method in all_methods:
        having = [name for name in model_names if method in run[name]]
        if len(having) >= 2:
            matrix = metrics.stability_matrix(
                [explanations[name][method].maps for name in having],
                threshold=threshold,
            )
            stability[method] = {
                "models": having,
                "matrix": matrix.matrix,
                "mean": float(matrix.mean),
            }
    return stability


@lficam_export("lficam_tf.evaluation.merge_evaluations")
def merge_evaluations(evaluations):
    """One `Evaluation` of several, run on the same images with the same
    settings: each model's methods joined (in the order given), and the
    stability matrix computed across all models.

    So a long evaluation can run as pieces (one model, one method each),
    each saved when it finishes and the whole resumed after an interruption:
    merging the pieces gives what one `evaluate` call over all models and
    methods gives.

    Args:
        evaluations: non-empty list of `Evaluation`s of the same images and
            settings (`config`). A model may appear in several, with other
            methods.

    Returns:
        An `Evaluation`.

    Example:

    >>> import numpy as np, lficam_tf
    >>> from lficam_tf.evaluation import evaluate, merge_evaluations
    >>> model = lficam_tf.build_model("cifar_resnet20", 10, name="lficam")
    >>> images = np.random.uniform(0, 255, (2, 32, 32, 3))
    >>> parts = [evaluate([model], images, methods=[m], steps=2, road=False)
    ...          for m in ("native", "gradcam")]
    >>> merge_evaluations(parts).methods
    {'lficam': ['lficam', 'gradcam']}
    """
    if not evaluations:
        raise ValueError("`evaluations` must be a non-empty list of Evaluations.")
    first = evaluations[0]
    for other in evaluations[1:]:
        different = {
            key
            for key in set(first.config) | set(other.config)
            if first.config.get(key) != other.config.get(key)
        }
        if different or not np.array_equal(first.fractions, other.fractions):
            raise ValueError(
                "`merge_evaluations` needs evaluations of the same images and "
                f"settings; these differ in {sorted(different) or ['fractions']}. "
                "Evaluate every piece with the same arguments."
            )
    names, kinds, accuracy, run = [], {}, {}, {}
    scores, curves, explanations = {}, {}, {}
    for evaluation in evaluations:
        for name in evaluation.model_names:
            if name not in names:
                names.append(name)
                kinds[name], accuracy[name] = (
                    evaluation.kinds[name],
                    evaluation.accuracy[name],
                )
                run[name], scores[name], curves[name], explanations[name] = (
                    [],
                    {},
                    {},
                    {},
                )
            for method in evaluation.methods[name]:
                if method in run[name]:
                    raise ValueError(
                        f"Method {method!r} of model {name!r} is in two of the "
                        "evaluations; give each (model, method) once."
                    )
                run[name].append(method)
                scores[name][method] = evaluation.metrics[name][method]
                curves[name][method] = evaluation.curves[name][method]
                explanations[name][method] = evaluation.explanations[name][method]
    return Evaluation(
        model_names=names,
        kinds=kinds,
        accuracy=accuracy,
        methods=run,
        metrics=scores,
        curves=curves,
        fractions=first.fractions,
        stability=_stability(
            names, run, explanations, first.config["stability_threshold"]
        ),
        explanations=explanations,
        config=dict(first.config),
    )
