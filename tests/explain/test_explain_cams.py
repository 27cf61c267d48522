"""Grad-CAM, Grad-CAM++ and Score-CAM against numpy computations by hand,
Score-CAM's masking of the preprocessed input, and its memory bound (the
model never sees more than `chunk_size` masked images at once)."""

import keras
import numpy as np
import pytest
from explain import numpy_cams as ref

import lficam_tf
from lficam_tf import graph
from lficam_tf.explain import GradCAM, GradCAMPlusPlus, ScoreCAM, explain

RNG = np.random.default_rng(1)
IMAGES = RNG.uniform(0, 255, (5, ref.SIZE, ref.SIZE, 3)).astype("float32")


@pytest.fixture(scope="module")
def tiny():
    return ref.tiny_model("softmax")


def _predicted(model):
    return np.argmax(ref.logits(model, IMAGES), axis=-1)


def test_gradcam_equals_hand_computation(tiny):
    result = explain(tiny, IMAGES, method="gradcam", batch_size=2)
    target = _predicted(tiny)
    assert result.layer == "pool"  # the last feature map, found automatically
    np.testing.assert_array_equal(result.class_index, target)
    np.testing.assert_allclose(
        result.maps, ref.gradcam(tiny, IMAGES, target), atol=2e-5
    )
    np.testing.assert_allclose(
        result.probabilities, ref.softmax(ref.logits(tiny, IMAGES)), atol=1e-5
    )


def test_gradcam_of_a_given_class_per_image(tiny):
    target = np.array([0, 1, 2, 1, 0])
    result = explain(tiny, IMAGES, method="gradcam", class_index=target)
    np.testing.assert_array_equal(result.class_index, target)
    np.testing.assert_allclose(
        result.maps, ref.gradcam(tiny, IMAGES, target), atol=2e-5
    )
    # Different classes give different maps: the class really is used.
    other = explain(tiny, IMAGES, method="gradcam", class_index=(target + 1) % 3)
    assert np.abs(other.maps - result.maps).max() > 0.1


def test_gradcam_explains_logits_not_the_softmax_unless_asked(tiny):
    target = np.array([2, 0, 1, 1, 2])
    kept = explain(
        tiny, IMAGES, method="gradcam", class_index=target, strip_softmax=False
    )
    np.testing.assert_allclose(
        kept.maps, ref.gradcam_of_probability(tiny, IMAGES, target), atol=2e-5
    )
    stripped = explain(tiny, IMAGES, method="gradcam", class_index=target)
    assert np.abs(kept.maps - stripped.maps).max() > 0.05
    # Probabilities are the model's own in both cases.
    np.testing.assert_allclose(kept.probabilities, tiny(IMAGES).numpy(), atol=1e-6)
    np.testing.assert_allclose(stripped.probabilities, tiny(IMAGES).numpy(), atol=1e-6)
    # The user's model is left as it was.
    assert tiny.get_layer("head").activation.__name__ == "softmax"


def test_gradcam_plus_plus_equals_hand_computation(tiny):
    target = np.array([0, 1, 2, 0, 1])
    result = explain(tiny, IMAGES, method="gradcam++", class_index=target)
    np.testing.assert_allclose(
        result.maps, ref.gradcam_plus_plus(tiny, IMAGES, target), atol=2e-5
    )


def test_scorecam_equals_hand_computation(tiny):
    result = explain(tiny, IMAGES, method="scorecam", chunk_size=3)
    target = _predicted(tiny)
    np.testing.assert_allclose(
        result.maps, ref.scorecam(tiny, IMAGES, target), atol=2e-5
    )


def test_faster_scorecam_scores_the_top_variance_channels(tiny):
    target = np.array([1, 1, 0, 2, 2])
    result = explain(tiny, IMAGES, method="scorecam", class_index=target, top_n=2)
    expected = ref.scorecam(tiny, IMAGES, target, top_n=2)
    np.testing.assert_allclose(result.maps, expected, atol=2e-5)
    assert np.abs(expected - ref.scorecam(tiny, IMAGES, target)).max() > 1e-3


@pytest.fixture(scope="module")
def normalized():
    """The tiny model with a normalisation layer as its `preprocessor`."""
    return ref.tiny_model("softmax", normalize=True)


def test_scorecam_masks_the_preprocessed_input_by_default(normalized):
    target = np.array([0, 1, 2, 1, 0])
    result = explain(normalized, IMAGES, method="scorecam", class_index=target)
    expected = ref.scorecam(normalized, IMAGES, target)
    np.testing.assert_allclose(result.maps, expected, atol=2e-5)
    np.testing.assert_allclose(
        result.probabilities, ref.softmax(ref.logits(normalized, IMAGES)), atol=1e-5
    )
    # Masked-out pixels take the mean, not black: the maps differ.
    black = ref.scorecam(normalized, IMAGES, target, masking="images")
    assert np.abs(expected - black).max() > 5e-3  # 250 times the tolerance


def test_scorecam_masks_the_images_on_request(normalized):
    target = np.array([2, 1, 0, 0, 1])
    cam = ScoreCAM(normalized, chunk_size=4, top_n=4, masking="images")
    maps, _, _ = cam(IMAGES, target)
    expected = ref.scorecam(normalized, IMAGES, target, top_n=4, masking="images")
    np.testing.assert_allclose(maps, expected, atol=2e-5)


def test_scorecam_on_a_package_model_masks_after_its_preprocessor():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inputs)
    model = lficam_tf.build_model(keras.Model(inputs, x), 3, preprocessing="cifar")
    cam = ScoreCAM(model)
    assert cam.preprocessor is model.preprocessor
    images = RNG.uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    logits = model(images)["logits"]
    # The scoring network starts after the preprocessor ...
    np.testing.assert_allclose(
        cam.network(model.preprocessor(images)), logits, rtol=1e-5, atol=1e-5
    )
    # ... so an all-masked input is the dataset's mean image.
    mean = np.asarray(model.preprocessor.get_layer("normalize").mean).reshape(3)
    mean_image = np.broadcast_to(mean, (1, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(
        cam.network(np.zeros((1, 16, 16, 3), "float32")),
        model(mean_image)["logits"],
        rtol=1e-5,
        atol=1e-5,
    )
    on_images = ScoreCAM(model, masking="images")
    assert on_images.preprocessor is None
    assert on_images.network is on_images.scores.model
    with pytest.raises(ValueError, match="`layer` must be a top-level layer"):
        graph.skip_layer(cam.scores.model, model.preprocessor.get_layer("normalize"))


def test_linear_output_model_needs_no_stripping():
    model = ref.tiny_model(activation=None)
    target = np.array([2, 2, 1, 0, 1])
    result = explain(model, IMAGES, method="gradcam", class_index=target)
    np.testing.assert_allclose(
        result.maps, ref.gradcam(model, IMAGES, target), atol=2e-5
    )
    np.testing.assert_allclose(
        result.probabilities, ref.softmax(ref.logits(model, IMAGES)), atol=1e-5
    )


def test_cam_objects_are_reusable_and_batch_independent(tiny):
    cam = GradCAMPlusPlus(tiny)
    whole, _, _ = cam(IMAGES, np.full(5, -1))
    first, _, _ = cam(IMAGES[:2], np.full(2, -1))
    np.testing.assert_allclose(whole[:2], first, atol=1e-6)
    assert isinstance(GradCAM(tiny, layer="conv").layer, str)


class BatchRecorder(keras.layers.Layer):
    """Identity that records the largest batch, the images and the calls."""

    def build(self, input_shape):
        kwargs = {
            "shape": (),
            "dtype": "int32",
            "initializer": "zeros",
            "trainable": False,
        }
        self.largest = self.add_weight(name="largest", **kwargs)
        self.images = self.add_weight(name="images", **kwargs)
        self.calls = self.add_weight(name="calls", **kwargs)

    def call(self, x):
        n = keras.ops.cast(keras.ops.shape(x)[0], "int32")
        self.largest.assign(keras.ops.maximum(self.largest, n))
        self.images.assign(self.images + n)
        self.calls.assign(self.calls + 1)
        return x

    def reset(self):
        for variable in (self.largest, self.images, self.calls):
            variable.assign(0)


@pytest.mark.parametrize("top_n", [None, 100])
def test_scorecam_never_runs_more_than_chunk_size_images(top_n):
    channels, chunk, batch = 768, 48, 2
    inputs = keras.Input((16, 16, 3))
    recorder = BatchRecorder(name="recorder")
    x = recorder(inputs)
    x = keras.layers.Conv2D(channels, 4, strides=4, activation="relu", name="wide")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4)(x))
    images = RNG.uniform(0, 255, (batch, 16, 16, 3)).astype("float32")

    cam = ScoreCAM(model, chunk_size=chunk, top_n=top_n)
    recorder.reset()
    maps, _, _ = cam(images, np.full(batch, -1))
    scored = batch * (top_n or channels)
    # One pass on the batch, then every (image, channel) pair exactly once,
    # in ceil(scored / chunk) passes of at most `chunk` images.
    assert int(recorder.largest.numpy()) == chunk
    assert int(recorder.images.numpy()) == batch + scored
    assert int(recorder.calls.numpy()) == 1 + -(-scored // chunk)
    assert maps.shape == (batch, 16, 16)


def test_invalid_cam_arguments(tiny):
    with pytest.raises(ValueError, match="`chunk_size` must be at least 1"):
        ScoreCAM(tiny, chunk_size=0)
    with pytest.raises(TypeError, match="`chunk_size` must be an int"):
        ScoreCAM(tiny, chunk_size=2.0)
    with pytest.raises(ValueError, match="`top_n` must be at least 1"):
        ScoreCAM(tiny, top_n=0)
    with pytest.raises(TypeError, match="`top_n` must be an int or None"):
        ScoreCAM(tiny, top_n="8")
    with pytest.raises(
        ValueError,
        match=r"`masking` must be one of \('preprocessed', 'images'\).*"
        r"Received: masking='normalised'",
    ):
        ScoreCAM(tiny, masking="normalised")
    with pytest.raises(TypeError, match="`masking` must be a str"):
        ScoreCAM(tiny, masking=None)
    with pytest.raises(ValueError, match="`layer` must output feature maps"):
        GradCAM(tiny, layer="gap")
    with pytest.raises(ValueError, match="has no layer 'nope'"):
        GradCAM(tiny, layer="nope")
