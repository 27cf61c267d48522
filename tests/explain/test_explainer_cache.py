"""`explain` called batch after batch reuses one explainer per model and
options: one trace, not one per call, and still the model's current weights."""

import keras
import numpy as np
import pytest

import lficam_tf
from lficam_tf.explain import explain, get_explainer

RNG = np.random.default_rng(1)
IMAGES = RNG.uniform(0, 255, (4, 16, 16, 3)).astype("float32")


@pytest.fixture()
def model():
    return lficam_tf.build_model("cifar_resnet20", 3, input_shape=(16, 16, 3))


def test_repeated_calls_trace_once(model):
    for start in range(0, 4, 2):
        explain(model, IMAGES[start : start + 2])
    explain(model, IMAGES[:1])  # a smaller batch: same signature, no retrace
    explainer = get_explainer(model)
    assert explainer._function.experimental_get_tracing_count() == 1


def test_same_options_same_explainer_other_options_another(model):
    assert get_explainer(model) is get_explainer(model, "native")
    assert get_explainer(model, "gradcam") is get_explainer(model, "gradcam")
    assert get_explainer(model, "gradcam") is not get_explainer(model)
    assert get_explainer(model, "scorecam", top_n=2) is not get_explainer(
        model, "scorecam", top_n=3
    )
    other = lficam_tf.build_model("cifar_resnet20", 3, input_shape=(16, 16, 3))
    assert get_explainer(other) is not get_explainer(model)


def test_cached_explainer_sees_new_weights(model):
    before = explain(model, IMAGES).maps
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    model.fit(IMAGES, np.array([0, 1, 2, 0]), epochs=2, verbose=0)
    after = explain(model, IMAGES)
    # Independent of the explainer: the model's own map, up-sampled the same way.
    attention = model(IMAGES, training=False)["attention"].numpy()
    expected = lficam_tf.explain.to_input_resolution(attention, (16, 16)).numpy()
    np.testing.assert_allclose(after.maps, expected, atol=1e-6)
    assert not np.allclose(before, after.maps)


def test_invalid_options_are_not_cached(model):
    with pytest.raises(ValueError, match="`method` must be one of"):
        get_explainer(model, "nope")
    with pytest.raises(ValueError, match="`top_n` is a Score-CAM option"):
        get_explainer(model, "gradcam", top_n=2)
    assert ("nope", None, 32, None, True) not in model.__dict__.get(
        "_lficam_explainers", {}
    )


def test_model_with_cache_saves_and_reloads(model, tmp_path):
    explain(model, IMAGES)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert "_lficam_explainers" not in loaded.__dict__
    np.testing.assert_allclose(
        explain(loaded, IMAGES).maps, explain(model, IMAGES).maps, atol=1e-6
    )
