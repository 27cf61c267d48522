"""The CAM methods of issue 21 against their formulas in numpy
(`numpy_formulas`), before up-sampling, to 1e-5; LayerCAM's fusion,
`aug_smooth`, `eigen_smooth`, Ablation-CAM's rerun of the layers after the
explained one, and the errors for bad combinations.

The small model's explained layer ("feat", a linear 3x3 convolution) is
followed by a 1x1 convolution with a ReLU before the pooling, so that the
gradient varies over positions and channels: HiResCAM, Grad-CAM and the
rest give different maps (checked), and a wrong formula fails.
"""

import keras
import numpy as np
import pytest
from explain import numpy_cams
from explain import numpy_formulas as ref

from lficam_tf import graph
from lficam_tf.explain import CAM_METHODS, explain
from lficam_tf.explain.cams import AblationCAM, LayerCAM

SIZE, CHANNELS, MIXED, CLASSES = 8, 6, 4, 3
RNG = np.random.default_rng(21)
IMAGES = RNG.uniform(-1, 1, (4, SIZE, SIZE, 3)).astype("float32")
TARGET = np.array([0, 2, 1, 2], "int32")


def _small_model():
    rng = np.random.default_rng(5)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(CHANNELS, 3, padding="same", name="feat")(inputs)
    x = keras.layers.Conv2D(MIXED, 1, activation="relu", name="mix")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(CLASSES, name="head")(x)
    model = keras.Model(inputs, outputs, name="small")
    for layer in ("feat", "mix", "head"):
        weights = model.get_layer(layer).get_weights()
        model.get_layer(layer).set_weights(
            [rng.normal(0.1, 0.5, w.shape).astype("float32") for w in weights]
        )
    return model


@pytest.fixture(scope="module")
def small():
    return _small_model()


def _scores_by_hand(model):
    """Logits from "feat" activations, the layers after it in numpy."""
    w_mix, b_mix = model.get_layer("mix").get_weights()
    w_head, b_head = model.get_layer("head").get_weights()

    def scores_of(a):
        mixed = np.maximum(a @ w_mix[0, 0] + b_mix, 0.0)
        return mixed.mean(axis=(1, 2)) @ w_head + b_head

    return scores_of


FORMULAS = ref.FORMULAS


@pytest.mark.parametrize("method", sorted(FORMULAS))
def test_low_resolution_map_equals_the_formula(small, method):
    a, g, _ = ref.probe(small, "feat", IMAGES, TARGET)
    expected = FORMULAS[method](a, g)
    cam = CAM_METHODS[method](small, layer="feat")
    (maps,), _, target = cam.low_resolution_maps(IMAGES, TARGET)
    np.testing.assert_array_equal(target, TARGET)
    assert expected.max() > 0.03  # not a trivially empty map (1e-5 is 1/3000 of it)
    np.testing.assert_allclose(maps.numpy(), expected, atol=1e-5, rtol=1e-5)


def test_the_methods_differ_on_this_model(small):
    # Otherwise the formula tests could not tell the methods apart.
    a, g, _ = ref.probe(small, "feat", IMAGES, TARGET)
    maps = {name: f(a, g) for name, f in FORMULAS.items()}
    names = sorted(maps)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert np.abs(maps[first] - maps[second]).max() > 1e-2, (first, second)


def test_ablationcam_equals_the_formula(small):
    a, _, _ = ref.probe(small, "feat", IMAGES, TARGET)
    expected = ref.ablationcam(a, _scores_by_hand(small), TARGET)
    cam = AblationCAM(small, layer="feat", chunk_size=5, verbose=False)
    assert not cam.tail_takes_inputs
    # Only the layers after "feat" are rerun.
    assert [layer.name for layer in cam.tail.layers][1:] == ["mix", "gap", "head"]
    (maps,), _, _ = cam.low_resolution_maps(IMAGES, TARGET)
    assert expected.max() > 0.1
    np.testing.assert_allclose(maps.numpy(), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("method", sorted(FORMULAS) + ["ablationcam", "scorecam"])
def test_maps_are_the_low_resolution_map_up_sampled(small, method):
    result = explain(small, IMAGES, method=method, class_index=TARGET, layer="feat")
    cam = CAM_METHODS[method](small, layer="feat")
    (low,), _, _ = cam.low_resolution_maps(IMAGES, TARGET)
    expected = numpy_cams.minmax(numpy_cams.resize_bilinear(low.numpy(), SIZE, SIZE))
    np.testing.assert_allclose(result.maps, expected, atol=2e-5)


def test_eigen_smooth_takes_the_first_principal_component(small):
    a, g, _ = ref.probe(small, "feat", IMAGES, TARGET)
    cam = CAM_METHODS["gradcam"](small, layer="feat", eigen_smooth=True)
    (maps,), _, _ = cam.low_resolution_maps(IMAGES, TARGET)
    expected = ref.gradcam_eigen_smooth(a, g)
    np.testing.assert_allclose(maps.numpy(), expected, atol=1e-5, rtol=1e-5)
    assert np.abs(expected - ref.gradcam(a, g)).max() > 1e-2


def test_eigencam_sign_follows_the_mean_activation(small):
    # Flipping every channel's sign flips the mean activation, so the chosen
    # projection flips too: the map of -A is ReLU of the negated projection.
    a, _, _ = ref.probe(small, "feat", IMAGES, TARGET)
    np.testing.assert_allclose(ref.projection(-a), -ref.projection(a), atol=1e-9)
    cam = CAM_METHODS["eigencam"](small, layer="feat")
    (maps,), _, _ = cam.low_resolution_maps(IMAGES, TARGET)
    projection = ref.projection(a)
    correlation = [
        np.corrcoef(p.ravel(), m.ravel())[0, 1]
        for p, m in zip(projection, a.mean(axis=-1))
    ]
    assert min(correlation) > 0
    np.testing.assert_allclose(maps.numpy(), np.maximum(projection, 0), atol=1e-5)


def test_layercam_fuses_layers_by_their_element_wise_maximum(small):
    a, g, _ = ref.probe(small, "feat", IMAGES, TARGET)
    a2, g2, _ = ref.probe(small, "mix", IMAGES, TARGET)
    up = [
        numpy_cams.minmax(numpy_cams.resize_bilinear(ref.layercam(x, y), SIZE, SIZE))
        for x, y in ((a, g), (a2, g2))
    ]
    result = explain(
        small, IMAGES, method="layercam", layer=["feat", "mix"], class_index=TARGET
    )
    assert result.layer == ["feat", "mix"]
    np.testing.assert_allclose(result.maps, np.maximum(*up), atol=2e-5)
    assert np.abs(up[0] - up[1]).max() > 0.05  # both layers matter
    cam = LayerCAM(small, layer=["feat", "mix"])
    low, _, _ = cam.low_resolution_maps(IMAGES, TARGET)
    np.testing.assert_allclose(low[1].numpy(), ref.layercam(a2, g2), atol=1e-5)


@pytest.mark.parametrize("method", ["hirescam", "eigencam"])
def test_aug_smooth_averages_flips_and_intensity_factors(small, method):
    result = explain(small, IMAGES, method=method, layer="feat", aug_smooth=True)
    plain = explain(small, IMAGES, method=method, layer="feat")
    # Every augmentation explains the class predicted on the unaltered images.
    np.testing.assert_array_equal(result.class_index, plain.class_index)
    np.testing.assert_allclose(result.probabilities, plain.probabilities, atol=1e-6)
    maps = []
    for flip in (False, True):
        for factor in (0.9, 1.0, 1.1):
            images = factor * (IMAGES[:, :, ::-1] if flip else IMAGES)
            m = explain(
                small,
                images,
                method=method,
                layer="feat",
                class_index=plain.class_index,
            ).maps
            maps.append(m[:, :, ::-1] if flip else m)
    expected = numpy_cams.minmax(np.mean(maps, axis=0))
    np.testing.assert_allclose(result.maps, expected, atol=2e-5)
    assert np.abs(result.maps - plain.maps).max() > 1e-2


def test_model_after_reruns_only_what_follows_the_layer():
    # A skip connection around "inner/mid" makes the tail also take the
    # images; a nested model is followed by its path.
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="first")(inputs)
    y = keras.layers.Conv2D(4, 1, activation="relu", name="mid")(x)
    y = keras.layers.Add(name="add")([x, y])
    inner = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(y), name="inner")
    outer_inputs = keras.Input((SIZE, SIZE, 3))
    model = keras.Model(outer_inputs, keras.layers.Dense(3)(inner(outer_inputs)))
    expected = model(IMAGES).numpy()
    for layer, takes_inputs in (("inner/first", False), ("inner/mid", True)):
        tail, takes = graph.model_after(model, layer)
        assert takes is takes_inputs
        features = graph.feature_model(model, layer)(IMAGES).numpy()
        out = tail([IMAGES, features] if takes else features)
        np.testing.assert_allclose(out, expected, atol=1e-5)
    # Ablation-CAM on the bypassed layer equals its formula, scores by hand.
    cam = AblationCAM(model, layer="inner/mid", verbose=False)
    (maps,), _, target = cam.low_resolution_maps(IMAGES, np.full(4, -1, "int32"))
    x_first = graph.feature_model(model, "inner/first")(IMAGES).numpy()
    a = graph.feature_model(model, "inner/mid")(IMAGES).numpy().astype("float64")
    w, b = model.layers[-1].get_weights()

    def scores_of(features):
        return (x_first + features).mean(axis=(1, 2)) @ w + b

    expected_map = ref.ablationcam(a, scores_of, target.numpy())
    np.testing.assert_allclose(maps.numpy(), expected_map, atol=1e-5, rtol=1e-5)


def test_ablationcam_shows_its_progress(small, capsys):
    # 4 images x 6 channels = 24 ablations in chunks of 5: 5 chunks.
    cam = AblationCAM(small, layer="feat", chunk_size=5, verbose=True)
    cam(IMAGES, TARGET)
    out = capsys.readouterr().out
    assert "5/5" in out and "chunk" in out


def test_errors_name_the_problem_and_the_fix(small):
    with pytest.raises(
        ValueError,
        match=r"`method` must be one of .*'hirescam'.*'ablationcam'.*"
        r"Received: method='hirecam'",
    ):
        explain(small, IMAGES, method="hirecam")
    with pytest.raises(
        ValueError,
        match=r"`layer` must be one layer for method='gradcam'.*"
        r"method='layercam'",
    ):
        explain(small, IMAGES, method="gradcam", layer=["feat", "mix"])
    with pytest.raises(
        ValueError, match="`reshape_transform` needs a layer whose output is 3-D"
    ):
        explain(small, IMAGES, method="gradcam", layer="gap", reshape_transform="vit")
    with pytest.raises(ValueError, match="reshape_transform='vit' takes tokens.*leave"):
        explain(small, IMAGES, method="gradcam", layer="feat", reshape_transform="vit")
    with pytest.raises(ValueError, match="`reshape_transform` must be None, one of"):
        explain(small, IMAGES, method="gradcam", reshape_transform="swin")
    with pytest.raises(
        ValueError, match="`reshape_transform` is not supported by method='ablationcam'"
    ):
        explain(small, IMAGES, method="ablationcam", reshape_transform=lambda t: t)
    with pytest.raises(TypeError, match="`aug_smooth` must be a bool"):
        explain(small, IMAGES, method="gradcam", aug_smooth="yes")
    with pytest.raises(ValueError, match="`aug_smooth`.*own map"):
        explain(small, IMAGES, method="native", aug_smooth=True)
    with pytest.raises(ValueError, match="`top_n` is a Score-CAM option"):
        explain(small, IMAGES, method="ablationcam", top_n=3)
    with pytest.raises(ValueError, match=r"`layer` must name at least one layer"):
        explain(small, IMAGES, method="layercam", layer=[])


@pytest.mark.parametrize("head", ["lficam", "baseline"])
def test_every_method_on_the_package_heads(head):
    # A small custom backbone keeps this fast; the default layer of each
    # head, and Ablation-CAM's tail of it, must work for every method. (ABN
    # needs a registered backbone: test_explain_models' slow test.)
    import lficam_tf

    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    model = lficam_tf.build_model(keras.Model(inputs, x), 3, head=head)
    images = RNG.uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    logits = model(images)["logits"].numpy()
    for method in CAM_METHODS:
        result = explain(model, images, method=method)
        assert result.maps.shape == (2, 16, 16) and np.isfinite(result.maps).all()
        np.testing.assert_array_equal(result.class_index, logits.argmax(-1))
    cam = AblationCAM(model, verbose=False)
    (low,), _, target = cam.low_resolution_maps(images, np.array([0, 2], "int32"))
    # Ablating nothing changes nothing: the tail reproduces the logits.
    features = graph.feature_model(cam.scores.model, cam.layer)(images)
    tail_input = [images, features] if cam.tail_takes_inputs else features
    np.testing.assert_allclose(cam.tail(tail_input), logits, rtol=1e-4, atol=1e-4)
