"""`explain` on the package's models (LFI-CAM, ABN, baseline), on nested
`keras.applications` and Sequential models, and its argument errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from explain import numpy_cams as ref

import lficam_tf
from lficam_tf.explain import explain, get_explainer, scores_model

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(0, 255, (3, 32, 32, 3)).astype("float32")
POST_HOC = ("gradcam", "gradcam++", "scorecam")


@pytest.fixture(scope="module")
def models():
    return {
        head: lficam_tf.build_model("cifar_resnet20", 10, head=head)
        for head in ("lficam", "abn", "baseline")
    }


def _check_format(result, images, num_classes):
    b, h, w, _ = images.shape
    assert result.maps.dtype == np.float32 and result.maps.shape == (b, h, w)
    assert result.maps.min() >= 0.0 and result.maps.max() <= 1.0
    # min-max per image: each map spans [0, 1] unless it is flat (all 0).
    per_image_max = result.maps.max(axis=(1, 2))
    assert np.all((per_image_max == 1.0) | (result.maps.reshape(b, -1).max(1) == 0))
    assert result.probabilities.shape == (b, num_classes)
    np.testing.assert_allclose(result.probabilities.sum(-1), 1.0, atol=1e-5)
    assert result.class_index.shape == (b,)


@pytest.fixture
def eagerly():
    """Run the explainers' tf.functions eagerly: same results, no tracing
    (the compiled path is what the numpy checks and the other tests run)."""
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)


@pytest.mark.slow
@pytest.mark.parametrize("head", ["lficam", "abn", "baseline"])
def test_every_method_on_every_head(models, head, eagerly):
    model = models[head]
    logits = model(IMAGES)["logits"].numpy()
    expected_probabilities = ref.softmax(logits.astype("float64"))
    methods = POST_HOC if head == "baseline" else ("native",) + POST_HOC
    for method in methods:
        result = explain(
            model,
            IMAGES,
            method=method,
            batch_size=2,
            top_n=8 if method == "scorecam" else None,
        )
        _check_format(result, IMAGES, 10)
        np.testing.assert_allclose(
            result.probabilities, expected_probabilities, atol=1e-5
        )
        np.testing.assert_array_equal(result.class_index, logits.argmax(-1))
        assert result.method == (head if method == "native" else method)


def test_posthoc_layers_of_our_models(models):
    # LFI-CAM: F' = (1 + A) * F; ABN: the perception branch; baseline: F.
    assert get_explainer(models["lficam"], "gradcam").layer == "residual_attention"
    assert get_explainer(models["abn"], "gradcam").layer.endswith(
        "perception_stage/stage3_block3_out"
    )
    assert (
        get_explainer(models["baseline"], "gradcam").layer
        == "cifar_resnet20/stage3_block3_out"
    )
    # The raw features F of the LFI-CAM model on request (nested path).
    result = explain(
        models["lficam"],
        IMAGES[:1],
        "gradcam",
        layer="cifar_resnet20/stage3_block3_out",
    )
    assert result.layer == "cifar_resnet20/stage3_block3_out"
    _check_format(result, IMAGES[:1], 10)


@pytest.mark.parametrize("head", ["lficam", "abn"])
def test_native_map_comes_from_the_same_forward_pass(
    models, head, monkeypatch, eagerly
):
    model = models[head]
    outputs = model(IMAGES)
    attention = outputs["attention"].numpy()[..., 0].astype("float64")
    expected = ref.minmax(ref.resize_bilinear(attention, 32, 32))

    calls = []
    original = model.call

    def counting_call(*args, **kwargs):
        calls.append(args[0].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "call", counting_call)
    result = explain(model, IMAGES, method=head, batch_size=2)
    assert calls == [2, 1]  # one call of the model per batch, nothing else
    # float32 bilinear up-sampling against the float64 reference: up to ~1e-5
    # apart on random weights (1.08e-5 once, on ABN's map).
    np.testing.assert_allclose(result.maps, expected, atol=3e-5)
    np.testing.assert_allclose(
        result.probabilities,
        ref.softmax(outputs["logits"].numpy().astype("float64")),
        atol=1e-5,
    )


def test_native_map_is_class_agnostic_and_uint8_is_accepted(models, eagerly):
    model = models["lficam"]
    as_uint8 = IMAGES.astype("uint8")
    a = explain(model, as_uint8, class_index=[1, 2, 3])
    b = explain(model, as_uint8.astype("float32"), class_index=4)
    np.testing.assert_array_equal(a.class_index, [1, 2, 3])
    np.testing.assert_array_equal(b.class_index, [4, 4, 4])
    np.testing.assert_allclose(a.maps, b.maps)


def test_batching_does_not_change_results(models):
    one = explain(models["baseline"], IMAGES, "gradcam++", batch_size=1)
    all_ = explain(models["baseline"], IMAGES, "gradcam++", batch_size=8)
    np.testing.assert_allclose(one.maps, all_.maps, atol=1e-5)
    np.testing.assert_allclose(one.probabilities, all_.probabilities, atol=1e-6)
    indices, probabilities = all_.top_k(3)
    assert indices.shape == (3, 3)
    np.testing.assert_array_equal(indices[:, 0], all_.predictions)
    assert np.all(np.diff(probabilities, axis=-1) <= 0)


def _mobilenet():
    return keras.applications.MobileNetV2(
        weights=None, input_shape=(64, 64, 3), classes=5, alpha=0.35
    )


@pytest.mark.slow
def test_nested_keras_applications_and_sequential_models(eagerly):
    images = RNG.uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    inner = _mobilenet()
    inputs = keras.Input((64, 64, 3))
    wrapped = keras.Model(
        inputs, inner(keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs))
    )
    sequential = keras.Sequential(
        [
            keras.Input((64, 64, 3)),
            keras.layers.Rescaling(1 / 127.5, offset=-1),
            _mobilenet(),
        ]
    )
    for model in (wrapped, sequential):
        probabilities = model(images).numpy()
        view = scores_model(model)
        assert view.stripped_softmax
        # The view returns the logits of the same model: softmax(view) = model.
        np.testing.assert_allclose(
            ref.softmax(view.model(images).numpy().astype("float64")),
            probabilities,
            atol=1e-5,
        )
        for method in POST_HOC:
            result = explain(
                model, images, method=method, top_n=16 if method == "scorecam" else None
            )
            _check_format(result, images, 5)
            assert result.layer.endswith("/out_relu")  # inside the nested model
            np.testing.assert_allclose(result.probabilities, probabilities, atol=1e-5)
            if model is wrapped and method == "gradcam":
                result_of_wrapped_gradcam = result
    assert inner.get_layer("predictions").activation.__name__ == "softmax"
    # Compiled (tf.function) as users run it, once.
    tf.config.run_functions_eagerly(False)
    compiled = explain(wrapped, images, method="gradcam")
    eager = result_of_wrapped_gradcam
    np.testing.assert_allclose(compiled.maps, eager.maps, atol=1e-4)


def test_small_sequential_cnn():
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(8, 3, activation="relu", name="last_conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),
            keras.layers.Softmax(),
        ]
    )
    images = RNG.uniform(0, 255, (3, 16, 16, 3)).astype("float32")
    for method in POST_HOC:
        result = explain(model, images, method=method, class_index=np.array([0, 1, 3]))
        _check_format(result, images, 4)
        assert result.layer == "last_conv"
        np.testing.assert_array_equal(result.class_index, [0, 1, 3])
    assert scores_model(model).stripped_softmax


def test_argument_errors(models):
    lficam, abn, baseline = models["lficam"], models["abn"], models["baseline"]
    with pytest.raises(ValueError, match="`method` must be one of"):
        explain(lficam, IMAGES, method="cam")
    with pytest.raises(
        ValueError, match="`method` must be a post-hoc method for this model"
    ):
        explain(baseline, IMAGES)
    with pytest.raises(ValueError, match="`method` must be 'native' or 'abn'"):
        explain(abn, IMAGES, method="lficam")
    with pytest.raises(ValueError, match="`method` must be 'native' or 'lficam'"):
        explain(lficam, IMAGES, method="abn")
    with pytest.raises(ValueError, match="`top_n` is a Score-CAM option"):
        explain(lficam, IMAGES, method="gradcam", top_n=3)
    with pytest.raises(
        ValueError, match="`layer` and `top_n` are options of the post-hoc"
    ):
        explain(lficam, IMAGES, layer="residual_attention")
    with pytest.raises(ValueError, match="`batch_size` must be at least 1"):
        explain(lficam, IMAGES, batch_size=0)
    with pytest.raises(TypeError, match="`batch_size` must be an int"):
        explain(lficam, IMAGES, batch_size=True)
    with pytest.raises(
        ValueError, match=r"For one image, add a batch axis: images\[None\]"
    ):
        explain(lficam, IMAGES[0])
    with pytest.raises(
        ValueError, match=r"`images` must be 32x32, the size this model takes"
    ):
        explain(lficam, np.zeros((1, 48, 48, 3)), method="gradcam")
    with pytest.raises(
        ValueError, match=r"`images` must be 32x32, the size this model takes"
    ):
        explain(abn, np.zeros((1, 48, 48, 3)))
    with pytest.raises(ValueError, match="`images` must hold at least one image"):
        explain(lficam, IMAGES[:0])
    with pytest.raises(TypeError, match="`images` must be numeric RGB"):
        explain(lficam, IMAGES.astype(bool))
    with pytest.raises(ValueError, match=r"`class_index` must be in \[0, 10\)"):
        explain(lficam, IMAGES, class_index=10)
    with pytest.raises(ValueError, match=r"one entry per image, shape \(3,\)"):
        explain(lficam, IMAGES, class_index=[1, 2])
    with pytest.raises(TypeError, match="`class_index` must be None"):
        explain(lficam, IMAGES, class_index=1.5)
    with pytest.raises(TypeError, match="`model` must be a keras.Model"):
        explain(object(), IMAGES)
    with pytest.raises(TypeError, match="`strip_softmax` must be a bool"):
        scores_model(baseline, strip_softmax="yes")


def test_nan_and_inf_pixels_are_refused_naming_the_images(models):
    images = np.repeat(IMAGES, 4, axis=0)  # 12 images
    images[1, 3, 4, 0] = np.nan
    images[7, 0, 0, 2] = np.inf
    images[11, 5, 5, 1] = -np.inf
    for method in ("native", "gradcam"):
        with pytest.raises(
            ValueError,
            match=r"`images` must be finite RGB values in 0\.\.255\. Received: NaN "
            r"or inf pixels in images\[i\] for i in \[1, 7, 11\] \(3 of 12 images\)",
        ):
            explain(models["lficam"], images, method=method)
    many = np.full((12, 32, 32, 3), np.nan, "float32")
    with pytest.raises(
        ValueError, match=r"for i in \[0, 1, .*, 9, \.\.\.\] \(12 of 12"
    ):
        explain(models["lficam"], many)


def test_model_structure_errors():
    inputs = keras.Input((8, 8, 3))
    features = keras.layers.Conv2D(2, 3)(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    two_outputs = keras.Model(
        inputs, [keras.layers.Dense(2)(pooled), keras.layers.Dense(3)(pooled)]
    )
    with pytest.raises(
        ValueError, match="`model` must return one tensor of class scores"
    ):
        explain(two_outputs, np.zeros((1, 8, 8, 3)), method="gradcam")
    no_logits = keras.Model(inputs, {"scores": keras.layers.Dense(2)(pooled)})
    with pytest.raises(ValueError, match="must have a 'logits' entry"):
        explain(no_logits, np.zeros((1, 8, 8, 3)), method="gradcam")
    unbuilt = keras.Sequential(
        [keras.layers.Conv2D(2, 3), keras.layers.GlobalAveragePooling2D()]
    )
    with pytest.raises(ValueError, match="`model` must be built"):
        explain(unbuilt, np.zeros((1, 8, 8, 3)), method="gradcam")

    class Subclassed(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(TypeError, match="`model` must be a Functional or Sequential"):
        explain(Subclassed(), np.zeros((1, 8, 8, 3)), method="gradcam")


def test_the_subpackage_is_callable(models):
    import lficam_tf.explain as module
    from lficam_tf.explain import GradCAM

    assert callable(module) and module.GradCAM is GradCAM
    np.testing.assert_allclose(
        module(models["baseline"], IMAGES, method="gradcam").maps,
        explain(models["baseline"], IMAGES, method="gradcam").maps,
    )
