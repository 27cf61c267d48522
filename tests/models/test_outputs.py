"""`lficam_tf.models.outputs`: the one owner of the output names and of
"which map does this model have", and the modules that used to guess it
themselves (explanation, training callbacks, evaluation) agreeing with it."""

import keras
import numpy as np
import pytest

import lficam_tf
from lficam_tf.evaluation.evaluate import methods_for
from lficam_tf.evaluation.evaluate import model_kind as evaluation_model_kind
from lficam_tf.explain import get_explainer
from lficam_tf.explain import native_method as explain_native_method
from lficam_tf.models import outputs
from lficam_tf.training.callbacks import accuracy_key, map_method

IMAGES = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
HEADS = ("lficam", "abn", "baseline")


@pytest.fixture(scope="module")
def models():
    return {
        head: lficam_tf.build_model("cifar_resnet20", 3, head=head) for head in HEADS
    }


def _plain(output_names):
    """A plain Keras Functional model with dict outputs of these names."""
    images = keras.Input((32, 32, 3))
    features = keras.layers.Conv2D(4, 3, padding="same")(images)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    layers = {
        "logits": keras.layers.Dense(3)(pooled),
        "attention": keras.layers.Conv2D(1, 1, activation="sigmoid")(features),
        "importance": keras.layers.Dense(4)(pooled),
        "attention_logits": keras.layers.Dense(3)(pooled),
    }
    return keras.Model(images, {name: layers[name] for name in output_names})


def test_names():
    assert (
        outputs.LOGITS,
        outputs.ATTENTION,
        outputs.IMPORTANCE,
        outputs.ATTENTION_LOGITS,
    ) == ("logits", "attention", "importance", "attention_logits")


@pytest.mark.parametrize("head", HEADS)
def test_every_head_has_its_declared_outputs(models, head):
    model = models[head]
    assert sorted(model.output) == sorted(outputs.HEAD_OUTPUTS[head])
    assert set(model.LOSS_OUTPUTS) <= set(outputs.HEAD_OUTPUTS[head])
    logits = outputs.logits(model(IMAGES))
    assert tuple(logits.shape) == (2, 3)


@pytest.mark.parametrize("head", HEADS)
def test_former_guessers_agree_on_every_head(models, head):
    model = models[head]
    native = None if head == "baseline" else head
    assert outputs.model_kind(model) == head
    assert outputs.native_method(model) == native
    # explain, training and evaluation read the same rule.
    assert explain_native_method(model) == native
    assert evaluation_model_kind(model) == head
    assert map_method(model) == ("gradcam" if native is None else "native")
    assert get_explainer(model, map_method(model)).method == (native or "gradcam")
    resolved = methods_for(model)
    assert resolved[0] == (native or "gradcam")
    assert not ({"lficam", "abn"} - {native}) & set(resolved)


def test_former_guessers_agree_on_a_plain_keras_model():
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(4, 3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    assert outputs.model_kind(model) == evaluation_model_kind(model) == "keras"
    assert outputs.native_method(model) is explain_native_method(model) is None
    assert map_method(model) == "gradcam"
    assert methods_for(model) == ["gradcam", "gradcam++", "scorecam"]
    tensor = model(IMAGES)
    assert outputs.logits(tensor) is tensor


@pytest.mark.parametrize(
    "names, kind",
    [
        (("logits", "attention", "importance"), "lficam"),
        (("logits", "attention_logits", "attention"), "abn"),
        (("logits",), "baseline"),
        # An "attention" output alone does not say whose map it is: the
        # training callbacks used to call it native, and then fail.
        (("logits", "attention"), "baseline"),
        (("logits", "importance"), "baseline"),
    ],
)
def test_the_kind_is_read_off_the_output_names(names, kind):
    model = _plain(names)
    native = kind if kind in ("lficam", "abn") else None
    assert outputs.model_kind(model) == evaluation_model_kind(model) == kind
    assert outputs.native_method(model) == explain_native_method(model) == native
    assert map_method(model) == ("gradcam" if native is None else "native")


def test_a_model_without_a_graph_is_a_keras_model():
    class Subclassed(keras.Model):
        def call(self, images):
            return {"logits": images, "attention": images, "importance": images}

    model = Subclassed()
    assert outputs.model_kind(model) == "keras"
    assert outputs.native_method(model) is None
    assert map_method(model) == "gradcam"


def test_accuracy_key_names_the_logits_metric():
    assert accuracy_key({"val_logits_accuracy": 0.5, "val_accuracy": 0.1}) == (
        "val_logits_accuracy"
    )
    assert accuracy_key({"val_accuracy": 0.5}) == "val_accuracy"
    assert accuracy_key({"logits_accuracy": 0.5}, validation=False) == (
        "logits_accuracy"
    )
    assert accuracy_key({"loss": 1.0}) is None
