"""`evaluate`: its numbers are the metrics of the explained maps, for the
right classes, masks and boxes; method resolution per model kind; errors."""

import keras
import numpy as np
import pytest

import lficam_tf
from lficam_tf import metrics
from lficam_tf.data import generate_shapes
from lficam_tf.evaluation import boxes_from_masks, evaluate, methods_for
from lficam_tf.explain import explain
from lficam_tf.metrics.road import PERCENTAGES as ROAD_PERCENTAGES


def tiny_backbone(seed, size=32):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(
        16, 3, strides=2, padding="same", activation="relu", name="features"
    )(x)
    return keras.Model(inputs, x, name="tiny_backbone")


def tiny_model(head="lficam", seed=0, size=32):
    backbone = tiny_backbone(seed, size)
    return lficam_tf.build_model(
        backbone, 6, head=head, preprocessing="cifar", name=f"{head}{seed}"
    )


@pytest.fixture(scope="module")
def shapes():
    images, labels, masks = generate_shapes(6, image_size=32, seed=3)
    return images.astype("float32"), labels, masks


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_metrics_are_those_of_the_explained_maps(shapes):
    images, labels, masks = shapes
    model = tiny_model("lficam")
    result = evaluate(
        [model], images, labels, masks, methods=["native", "gradcam"], steps=4
    )
    assert result.methods == {"lficam0": ["lficam", "gradcam"]}
    assert result.config["pointing_tolerance"] == 2  # 15 px at 224 -> 32 px images

    def predict_fn(x):
        return _softmax(
            model(np.asarray(x, "float32"))["logits"].numpy().astype("float64")
        )

    predicted = predict_fn(images).argmax(-1)
    assert result.accuracy["lficam0"] == pytest.approx(np.mean(predicted == labels))
    # Boxes around the masks, worked out here independently.
    boxes = []
    for mask in masks:
        rows, cols = np.nonzero(mask)
        boxes.append([rows.min(), cols.min(), rows.max() + 1, cols.max() + 1])
    boxes = np.array(boxes, "float32")
    for method in ("lficam", "gradcam"):
        maps = explain(model, images, method=method).maps
        np.testing.assert_allclose(
            result.explanations["lficam0"][method].maps, maps, atol=1e-6
        )
        np.testing.assert_array_equal(
            result.explanations["lficam0"][method].class_index, predicted
        )
        values = result.metrics["lficam0"][method]
        change = metrics.confidence_change(predict_fn, images, maps, predicted)
        deletion = metrics.deletion_auc(predict_fn, images, maps, predicted, steps=4)
        insertion = metrics.insertion_auc(predict_fn, images, maps, predicted, steps=4)
        boxed = metrics.box_localization(maps, boxes)
        removal = metrics.road(predict_fn, images, maps, predicted)
        expected = {
            "average_drop": change.average_drop,
            "increase_in_confidence": change.increase_in_confidence,
            "deletion_auc": deletion.mean_auc,
            "insertion_auc": insertion.mean_auc,
            "road_morf": removal.morf_mean,
            "road_lerf": removal.lerf_mean,
            "road_combined": (removal.lerf_mean - removal.morf_mean) / 2,
            "pointing_game": np.mean(
                metrics.pointing_game(maps, masks=masks, tolerance=2)
            ),
            "energy_pointing_game": np.mean(
                metrics.energy_pointing_game(maps, masks=masks)
            ),
            "box_accuracy": boxed.accuracy,
            "box_iou": np.mean(boxed.iou),
        }
        assert values.keys() == expected.keys()
        for key, value in expected.items():
            assert values[key] == pytest.approx(value, abs=1e-4), (method, key)
        np.testing.assert_allclose(
            result.curves["lficam0"][method]["deletion"],
            deletion.curves.mean(0),
            atol=1e-4,
        )
    assert result.stability == {}  # one model
    assert result.config["road_percentages"] == list(ROAD_PERCENTAGES)

    # Without ROAD, the ROAD keys are gone; other percentages change them.
    quick = evaluate(
        [model], images, labels, masks, methods=["gradcam"], steps=4, road=False
    )
    assert not any(
        key.startswith("road") for key in quick.metrics["lficam0"]["gradcam"]
    )
    assert quick.config["road_percentages"] is None
    coarse = evaluate(
        [model],
        images,
        labels,
        masks,
        methods=["gradcam"],
        steps=4,
        road_percentages=[50],
    )
    maps = coarse.explanations["lficam0"]["gradcam"].maps
    half = metrics.road(predict_fn, images, maps, predicted, percentages=[50])
    assert coarse.metrics["lficam0"]["gradcam"]["road_morf"] == pytest.approx(
        half.morf_mean, abs=1e-4
    )


def test_same_weights_are_perfectly_stable_and_labels_can_be_explained(
    shapes, tmp_path
):
    images, labels, _ = shapes
    model = tiny_model("lficam", seed=1)
    model.save(tmp_path / "m.keras")
    twin = keras.saving.load_model(tmp_path / "m.keras")
    other = tiny_model("baseline", seed=2)
    result = evaluate(
        [model, twin, other],
        images,
        labels,
        model_names=["a", "b", "c"],
        methods=["native", "gradcam"],
        target="label",
        steps=2,
    )
    assert result.methods == {
        "a": ["lficam", "gradcam"],
        "b": ["lficam", "gradcam"],
        "c": ["gradcam"],
    }
    assert result.stability["lficam"]["models"] == ["a", "b"]
    np.testing.assert_allclose(result.stability["lficam"]["matrix"], np.ones((2, 2)))
    gradcam = result.stability["gradcam"]
    assert gradcam["models"] == ["a", "b", "c"]
    matrix = np.asarray(gradcam["matrix"])
    assert matrix[0, 1] == pytest.approx(1.0)
    maps = [result.explanations[n]["gradcam"].maps for n in "ac"]
    assert matrix[0, 2] == pytest.approx(metrics.stability_iou(*maps).mean())
    for name in "abc":
        np.testing.assert_array_equal(
            result.explanations[name]["gradcam"].class_index, labels
        )
    assert "pointing_game" not in result.metrics["a"]["gradcam"]  # no masks given


def test_boxes_from_masks_by_hand():
    masks = np.zeros((2, 5, 6), bool)
    masks[0, 1:3, 2:5] = True
    masks[0, 4, 0] = True
    np.testing.assert_array_equal(boxes_from_masks(masks), [[1, 0, 5, 5], [0, 0, 0, 0]])


@pytest.mark.slow
def test_abn_model_is_evaluated_with_its_own_map():
    model = lficam_tf.build_model("cifar_resnet20", 6, head="abn")
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3))
    result = evaluate([model], images, methods=["native", "lficam"], steps=2)
    assert result.kinds == {model.name: "abn"}
    assert result.methods == {model.name: ["abn"]}
    assert set(result.metrics[model.name]["abn"]) == {
        "average_drop",
        "increase_in_confidence",
        "deletion_auc",
        "insertion_auc",
        "road_morf",
        "road_lerf",
        "road_combined",
    }


def test_method_resolution():
    lficam, baseline = tiny_model("lficam"), tiny_model("baseline")
    assert methods_for(lficam) == ["lficam", "gradcam", "gradcam++", "scorecam"]
    assert methods_for(baseline) == ["gradcam", "gradcam++", "scorecam"]
    assert methods_for(lficam, ["abn", "scorecam", "native", "lficam"]) == [
        "scorecam",
        "lficam",
    ]


def test_errors(shapes):
    images, labels, masks = shapes
    lficam, baseline = tiny_model("lficam"), tiny_model("baseline")
    with pytest.raises(
        ValueError, match="`methods` must include one that applies to model"
    ):
        evaluate([baseline], images, methods=["native"])
    with pytest.raises(ValueError, match="`models` must all take the images' size"):
        evaluate([lficam, tiny_model("lficam", size=48)], images)
    with pytest.raises(ValueError, match="`models` must be a non-empty list"):
        evaluate([], images)
    with pytest.raises(ValueError, match="`images` must be"):
        evaluate([lficam], images[0])
    with pytest.raises(ValueError, match="`labels` must have one entry per image"):
        evaluate([lficam], images, labels[:2])
    with pytest.raises(ValueError, match="`masks` must be"):
        evaluate([lficam], images, masks=masks[:, :5])
    with pytest.raises(ValueError, match="`labels` must be given with target='label'"):
        evaluate([lficam], images, target="label")
    with pytest.raises(ValueError, match="`target` must be one of"):
        evaluate([lficam], images, target="true")
    with pytest.raises(
        ValueError, match="`model_names` must give each model a distinct name"
    ):
        evaluate([lficam, baseline], images, model_names=["x", "x"])


def test_pieces_merged_equal_one_evaluation(shapes):
    from lficam_tf.evaluation import merge_evaluations

    images, labels, masks = shapes
    models = [tiny_model("lficam", 0), tiny_model("lficam", 1)]
    kwargs = dict(labels=labels, masks=masks, steps=3, road_percentages=[30, 60])
    whole = evaluate(models, images, methods=["native", "gradcam"], **kwargs)
    pieces = [
        evaluate([model], images, methods=[method], **kwargs)
        for model in models
        for method in ("native", "gradcam")
    ]
    merged = merge_evaluations(pieces)
    assert merged.model_names == whole.model_names == ["lficam0", "lficam1"]
    assert merged.methods == whole.methods
    for name in whole.model_names:
        for method in whole.methods[name]:
            for key, value in whole.metrics[name][method].items():
                assert merged.metrics[name][method][key] == pytest.approx(
                    value, abs=1e-5
                )
    assert merged.stability.keys() == whole.stability.keys() == {"lficam", "gradcam"}
    for method, value in whole.stability.items():
        np.testing.assert_allclose(merged.stability[method]["matrix"], value["matrix"])
    # Pieces of other settings, or a (model, method) twice, are refused.
    other = evaluate([models[0]], images, methods=["gradcam"], **{**kwargs, "steps": 4})
    with pytest.raises(ValueError, match="differ in.*steps"):
        merge_evaluations(pieces + [other])
    with pytest.raises(ValueError, match="in two of the evaluations"):
        merge_evaluations(pieces + pieces[:1])


def test_explainer_options_reach_each_method_that_takes_them(shapes):
    images = shapes[0][:3]
    model = tiny_model("lficam")
    result = evaluate(
        [model],
        images,
        methods=["native", "gradcam", "scorecam"],
        steps=2,
        top_n=2,
        masking="images",
        eigen_smooth=True,
    )
    # The native map takes none of them; Grad-CAM only eigen_smooth.
    expected = {
        "lficam": explain(model, images),
        "gradcam": explain(model, images, method="gradcam", eigen_smooth=True),
        "scorecam": explain(
            model,
            images,
            method="scorecam",
            top_n=2,
            masking="images",
            eigen_smooth=True,
        ),
    }
    for method, explanation in expected.items():
        np.testing.assert_allclose(
            result.explanations["lficam0"][method].maps, explanation.maps, atol=1e-5
        )
    assert result.config["explainer_options"] == {
        "masking": "images",
        "eigen_smooth": True,
    }
    with pytest.raises(TypeError, match="`stepz` is not an option of the CAM methods"):
        evaluate([model], images, methods=["gradcam"], stepz=3)
