"""compile / fit / evaluate in every form the Keras guide shows, as a matrix
against a plain `keras.Model` built from the same layers (same dict outputs,
same weights).

For each form, the package's model and the plain model start from the same
weights, take an SGD step and are evaluated; losses, metrics (names and
values) and the trained weights must agree. A form either works on the plain model too (it is run there as it
is), or it is one of the package's conveniences (plain labels for every
output, one loss for the class scores, a list of metrics for "logits",
labels or weights as a dict naming some outputs): then the plain model,
which refuses that form, runs the explicit form it stands for.
"""

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import pytest

import lficam_tf
from lficam_tf.backbones.preprocessing import preprocessing_layer
from lficam_tf.models import ABNClassifier

SIZE, CLASSES = 16, 3
RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, (8, SIZE, SIZE, 3)).astype("float32")
LABELS = np.array([0, 1, 2, 1, 0, 2, 2, 1], "int32")
WEIGHTS = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 1.0, 0.0, 1.0], "float32")
CLASS_WEIGHT = {0: 1.0, 1: 3.0, 2: 0.5}


def sce():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def accuracy():
    return keras.metrics.SparseCategoricalAccuracy("accuracy")


def _conv(filters, strides, x):
    return keras.layers.Conv2D(filters, 3, strides=strides, padding="same")(x)


def tiny_lficam():
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.ReLU()(_conv(4, 2, inputs))
    backbone = keras.Model(inputs, x)
    return lficam_tf.build_model(backbone, CLASSES, fin_depth=1, preprocessing="cifar")


def tiny_abn():
    images = keras.Input((SIZE, SIZE, 3))
    extractor = keras.Model(images, keras.layers.ReLU()(_conv(4, 2, images)))

    def stage(strides):
        inputs = keras.Input(extractor.output.shape[1:])
        return keras.Model(inputs, keras.layers.ReLU()(_conv(4, strides, inputs)))

    return ABNClassifier(
        extractor, stage(2), stage(1), CLASSES, preprocessing_layer("cifar")
    )


def tiny_baseline():
    inputs = keras.Input((SIZE, SIZE, 3))
    backbone = keras.Model(inputs, keras.layers.ReLU()(_conv(4, 2, inputs)))
    return lficam_tf.build_model(
        backbone, CLASSES, head="baseline", preprocessing="cifar"
    )


BUILDERS = {"lficam": tiny_lficam, "abn": tiny_abn, "baseline": tiny_baseline}


@pytest.fixture(scope="module")
def models():
    """head -> (package model, its initial weights as (variable, value) pairs)."""
    keras.utils.set_random_seed(0)
    built = {}
    for head, build in BUILDERS.items():
        model = build()
        built[head] = (model, [(v, v.numpy()) for v in model.weights])
    return built


def plain_model(model):
    """A plain Functional model on `model`'s layers: same outputs, same variables.

    A fresh one per run: Keras keeps an earlier compile's metrics when
    `compile` gets none.
    """
    plain = keras.Model(model.input, model.output, name=f"plain_{model.name}")
    assert not isinstance(plain, lficam_tf.models.ImageClassifier)
    return plain


def every_output(model):
    """Labels for every output (the plain model needs them even where unused)."""
    return {name: LABELS for name in model.output}


def class_weights_as_sample_weights():
    return np.array([CLASS_WEIGHT[c] for c in LABELS], "float32")


@dataclasses.dataclass
class Form:
    """One way to compile and fit; callables build fresh objects per run."""

    compile: Callable
    labels: Callable
    fit: dict = dataclasses.field(default_factory=dict)
    #: `evaluate`'s keyword arguments; None: the `sample_weight` of `fit`.
    evaluate: dict | None = None


@dataclasses.dataclass
class Case:
    heads: tuple
    form: Form
    #: None: the plain model runs `form` itself. Else the explicit form
    #: that the package's convenience stands for.
    plain: Form | None = None
    #: Whether plain Keras refuses `form` (checked); None where the form
    #: means something else there (compile()'s defaults).
    refused_by_plain: bool | None = None


def loss_outputs(model):
    """`LOSS_OUTPUTS` of the package's model, read off the output names."""
    return tuple(
        name for name in ("logits", "attention_logits") if name in model.output
    )


def _explicit_defaults(model):
    """compile()'s defaults, spelled out for a plain model."""
    return {
        "loss": {name: sce() for name in loss_outputs(model)},
        "metrics": {"logits": [accuracy()]},
    }


CASES = {
    # --- Forms that work on a plain Keras model: run as they are on both.
    "loss dict for one output, labels for every output": Case(
        ("lficam", "abn", "baseline"),
        Form(lambda m: {"loss": {"logits": sce()}, "metrics": None}, every_output),
    ),
    "loss dict for one output, dict labels for it, no metrics": Case(
        ("lficam",),
        Form(
            lambda m: {"loss": {"logits": sce()}, "metrics": None},
            lambda m: {"logits": LABELS},
        ),
    ),
    "loss dict for several outputs, loss_weights": Case(
        ("abn",),
        Form(
            lambda m: {
                "loss": {"logits": sce(), "attention_logits": sce()},
                "loss_weights": {"logits": 1.0, "attention_logits": 0.5},
                "metrics": {"logits": ["accuracy"]},
            },
            every_output,
        ),
    ),
    "list of losses, one per output, list of labels": Case(
        ("lficam",),
        # Keras' rule: in the order of the sorted output names, "logits" last.
        Form(
            lambda m: {"loss": [None, None, sce()], "metrics": None},
            lambda m: [LABELS] * 3,
        ),
    ),
    "metrics as a dict": Case(
        ("lficam", "baseline"),
        Form(
            lambda m: {
                "loss": {"logits": sce()},
                "metrics": {
                    "logits": [
                        "accuracy",
                        keras.metrics.SparseTopKCategoricalAccuracy(2),
                    ]
                },
            },
            every_output,
        ),
    ),
    "metrics as a list, one entry per output": Case(
        ("lficam",),
        Form(
            lambda m: {
                "loss": {"logits": sce()},
                "metrics": [None, None, ["accuracy"]],
            },
            every_output,
        ),
    ),
    "one loss and a list of metrics, single output": Case(
        ("baseline",),
        Form(lambda m: {"loss": sce(), "metrics": ["accuracy"]}, lambda m: LABELS),
    ),
    "plain sample_weight, weighted metrics": Case(
        ("lficam",),
        Form(
            lambda m: {
                **_explicit_defaults(m),
                "weighted_metrics": {"logits": [accuracy()]},
            },
            every_output,
            {"sample_weight": WEIGHTS},
        ),
    ),
    # --- The package's conveniences: the explicit form on the plain model.
    "compile() defaults, plain labels": Case(
        ("lficam", "abn", "baseline"),
        Form(lambda m: {}, lambda m: LABELS),
        Form(_explicit_defaults, every_output),
    ),
    "compile() defaults, dict labels for the outputs with a loss": Case(
        ("lficam", "abn"),
        Form(lambda m: {}, lambda m: {name: LABELS for name in loss_outputs(m)}),
        Form(_explicit_defaults, every_output),
    ),
    "loss dict for one output, dict labels for it, dict metrics": Case(
        ("lficam", "abn"),
        Form(
            lambda m: {"loss": {"logits": sce()}, "metrics": {"logits": [accuracy()]}},
            lambda m: {"logits": LABELS},
        ),
        Form(
            lambda m: {"loss": {"logits": sce()}, "metrics": {"logits": [accuracy()]}},
            every_output,
        ),
        refused_by_plain=True,
    ),
    "one loss, plain labels, a list of metrics": Case(
        ("lficam", "abn"),
        Form(
            lambda m: {
                "loss": sce(),
                "loss_weights": 0.5,
                "metrics": ["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(2)],
            },
            lambda m: LABELS,
        ),
        Form(
            lambda m: {
                "loss": {name: sce() for name in loss_outputs(m)},
                "loss_weights": {name: 0.5 for name in loss_outputs(m)},
                "metrics": {
                    "logits": [
                        "accuracy",
                        keras.metrics.SparseTopKCategoricalAccuracy(2),
                    ]
                },
            },
            every_output,
        ),
        refused_by_plain=True,
    ),
    "list of losses, plain labels": Case(
        ("lficam",),
        Form(
            lambda m: {"loss": [None, None, sce()], "metrics": None}, lambda m: LABELS
        ),
        Form(lambda m: {"loss": [None, None, sce()], "metrics": None}, every_output),
        refused_by_plain=True,
    ),
    "compile() defaults, plain labels and sample_weight": Case(
        ("lficam", "abn"),
        Form(
            lambda m: {"weighted_metrics": [accuracy()]},
            lambda m: LABELS,
            {"sample_weight": WEIGHTS},
        ),
        Form(
            lambda m: {
                **_explicit_defaults(m),
                "weighted_metrics": {"logits": [accuracy()]},
            },
            every_output,
            {"sample_weight": WEIGHTS},
        ),
    ),
    "dict labels and dict sample_weight for one output": Case(
        ("lficam",),
        Form(
            lambda m: {
                "loss": {"logits": sce()},
                "weighted_metrics": {"logits": [accuracy()]},
            },
            lambda m: {"logits": LABELS},
            {"sample_weight": {"logits": WEIGHTS}},
        ),
        Form(
            lambda m: {
                "loss": {"logits": sce()},
                "metrics": {"logits": [accuracy()]},
                "weighted_metrics": {"logits": [accuracy()]},
            },
            every_output,
            {
                "sample_weight": {
                    name: WEIGHTS
                    for name in (
                        "logits",
                        "attention",
                        "attention_logits",
                        "importance",
                    )
                }
            },
        ),
        refused_by_plain=True,
    ),
    "compile() defaults, plain labels and class_weight": Case(
        ("lficam", "abn"),
        Form(lambda m: {}, lambda m: LABELS, {"class_weight": CLASS_WEIGHT}),
        Form(
            _explicit_defaults,
            every_output,
            {"sample_weight": class_weights_as_sample_weights()},
            evaluate={},
        ),
    ),
}

PARAMS = [
    pytest.param(head, name, id=f"{head}: {name}")
    for name, case in CASES.items()
    for head in case.heads
]


def run(model, weights, form, eager=True, use_fit=False):
    """One SGD step on 4 images from `weights` (two with `use_fit`), then an
    evaluation on 8.

    `train_on_batch` / `test_on_batch` by default (the same train and test
    steps as `fit` / `evaluate`, without their per-call overhead);
    `use_fit` runs `fit` and `evaluate` themselves.
    """
    for variable, value in weights:
        variable.assign(value)
    compile_kwargs = form.compile(model)
    if isinstance(model, lficam_tf.models.ImageClassifier):
        # Reused between runs: Keras keeps an earlier compile's metrics when
        # `metrics` and `weighted_metrics` are both None.
        compile_kwargs = {"weighted_metrics": [], **compile_kwargs}
    model.compile(
        optimizer=keras.optimizers.SGD(0.05), run_eagerly=eager, **compile_kwargs
    )
    labels = form.labels(model)
    evaluate_kwargs = form.evaluate
    if evaluate_kwargs is None:
        evaluate_kwargs = {k: v for k, v in form.fit.items() if k == "sample_weight"}
    if use_fit:
        history = model.fit(
            IMAGES, labels, batch_size=4, shuffle=False, verbose=0, **form.fit
        ).history
        logs = {k: v[0] for k, v in history.items()}
        kwargs = {"batch_size": 8, "verbose": 0, **evaluate_kwargs}
        results = model.evaluate(IMAGES, labels, return_dict=True, **kwargs)
        as_list = model.evaluate(IMAGES, labels, **kwargs)
    else:

        def first_four(structure):
            return keras.tree.map_structure(lambda a: a[:4], structure)

        fit_kwargs = dict(form.fit)
        if "sample_weight" in fit_kwargs:
            fit_kwargs["sample_weight"] = first_four(fit_kwargs["sample_weight"])
        logs = model.train_on_batch(
            IMAGES[:4], first_four(labels), return_dict=True, **fit_kwargs
        )
        results = model.test_on_batch(
            IMAGES, labels, return_dict=True, **evaluate_kwargs
        )
        as_list = list(results.values())
    return {
        "logs": logs,
        "evaluate": results,
        "evaluate_list": as_list,
        "weights": [variable.numpy() for variable, _ in weights],
    }


def _filtered(structure, model):
    """Plain Keras needs sample weights shaped like its labels."""
    if isinstance(structure, dict):
        return {k: v for k, v in structure.items() if k in model.output}
    return structure


def assert_same_run(ours, theirs):
    assert sorted(ours["logs"]) == sorted(theirs["logs"])
    for key, value in theirs["logs"].items():
        np.testing.assert_allclose(ours["logs"][key], value, rtol=1e-5, err_msg=key)
    assert list(ours["evaluate"]) == list(theirs["evaluate"])
    for key, value in theirs["evaluate"].items():
        np.testing.assert_allclose(ours["evaluate"][key], value, rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(
        ours["evaluate_list"], theirs["evaluate_list"], rtol=1e-5
    )
    for a, b in zip(ours["weights"], theirs["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("head, name", PARAMS)
def test_matrix_against_a_plain_keras_model(models, head, name):
    model, weights = models[head]
    case = CASES[name]
    ours = run(model, weights, case.form)
    # Training happened: the weights moved (so equal weights mean something).
    assert any(not np.allclose(a, b) for a, (_, b) in zip(ours["weights"], weights))
    explicit = case.plain or case.form
    explicit = dataclasses.replace(
        explicit, fit={k: _filtered(v, model) for k, v in explicit.fit.items()}
    )
    assert_same_run(ours, run(plain_model(model), weights, explicit))
    if case.refused_by_plain:
        # A convenience indeed: plain Keras refuses the form as it is.
        with pytest.raises((ValueError, KeyError)):
            run(plain_model(model), weights, case.form)


@pytest.mark.parametrize(
    "name",
    [
        "loss dict for one output, dict labels for it, dict metrics",
        "compile() defaults, plain labels and class_weight",
    ],
)
def test_fit_and_evaluate_match_plain_keras(models, name):
    """`fit` (its data adapter turns class_weight into sample weights) and
    `evaluate`, as a dict and as a list."""
    model, weights = models["lficam"]
    case = CASES[name]
    ours = run(model, weights, case.form, use_fit=True)
    assert_same_run(ours, run(plain_model(model), weights, case.plain, use_fit=True))
    assert ours["evaluate_list"][0] == ours["evaluate"]["loss"]
    assert len(ours["evaluate_list"]) == len(ours["evaluate"])


def test_compiled_step_in_graph_mode_matches_plain_keras(models):
    """The matrix runs eagerly for speed; the traced train/test steps agree too."""
    model, weights = models["abn"]
    form = CASES["compile() defaults, plain labels and sample_weight"]
    ours = run(model, weights, form.form, eager=False)
    assert_same_run(ours, run(plain_model(model), weights, form.plain, eager=False))
    assert {"logits_loss", "attention_logits_loss"} <= set(ours["logs"])


def test_a_loss_named_for_one_output_trains_that_output_only(models):
    model, weights = models["abn"]
    form = Form(lambda m: {"loss": {"attention_logits": sce()}}, lambda m: LABELS)
    run(model, weights, form)
    changed = {
        v.path
        for v, value in weights
        if v.trainable and not np.allclose(v.numpy(), value)
    }
    assert not any(path.startswith("classifier/") for path in changed)
    assert any(path.startswith("attention_head/") for path in changed)


def test_missing_labels_for_an_output_with_a_loss(models):
    model, _ = models["abn"]
    plain = plain_model(model)
    model.compile(run_eagerly=True)
    message = (
        r"`y` must have labels for every output with a loss \(\['attention_logits', "
        r"'logits'\]\)\. Received: y with keys \['logits'\], missing "
        r"\['attention_logits'\]\. Pass the integer labels alone"
    )
    with pytest.raises(ValueError, match=message):
        model.fit(IMAGES, {"logits": LABELS}, batch_size=4, verbose=0)
    # A wrong key is not matched by position (plain Keras would train the
    # attention branch on y["attention"] here without a word).
    with pytest.raises(ValueError, match=r"missing \['attention_logits'\]"):
        model.fit(
            IMAGES, {"logits": LABELS, "attention": LABELS}, batch_size=4, verbose=0
        )
    # Plain Keras refuses the first form too.
    plain.compile(**_explicit_defaults(model), run_eagerly=True)
    with pytest.raises(ValueError):
        plain.fit(IMAGES, {"logits": LABELS}, batch_size=4, verbose=0)


def test_class_weight_with_dict_labels_is_refused_as_by_keras(models):
    model, _ = models["lficam"]
    plain = plain_model(model)
    model.compile(run_eagerly=True)
    plain.compile(**_explicit_defaults(model), run_eagerly=True)
    for m in (model, plain):
        with pytest.raises(ValueError, match="`class_weight` is only supported"):
            m.fit(
                IMAGES,
                every_output(model),
                class_weight=CLASS_WEIGHT,
                batch_size=4,
                verbose=0,
            )
