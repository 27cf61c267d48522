"""`explain_files`: what `lficam-explain` does, called from Python with a
model object (no path), class names as a list, and the skipped files
reported through `on_skip` as they are met."""

import json

import keras
import numpy as np
import pytest

from lficam_tf.explain import explain, explain_files, load_model, model_class_names
from lficam_tf.explain.image_files import find_images


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("image_files")
    keras.utils.set_random_seed(4)
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="feat"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ],
        name="small",
    )
    rng = np.random.default_rng(0)
    (root / "images").mkdir()
    for name in ("a.png", "b.png"):
        keras.utils.save_img(root / "images" / name, rng.integers(0, 256, (20, 20, 3)))
    (root / "images" / "broken.png").write_text("no PNG")
    return model, root


def test_explain_files_from_python(small, tmp_path):
    model, root = small
    files, folders = find_images([root / "images"])
    assert folders and [f.name for f in files] == ["a.png", "b.png", "broken.png"]
    skipped, done = [], []
    report = explain_files(
        model,
        files,
        tmp_path / "out",
        method="gradcam",
        top_k=2,
        class_names=["cat", "dog", "fox"],
        batch_size=2,
        progress=done.append,
        on_skip=lambda path, reason: skipped.append(path.name),
    )
    assert skipped == ["broken.png"] and done == [2, 1]
    assert report == json.loads((tmp_path / "out" / "predictions.json").read_text())
    assert report["model"] == "small" and report["layer"] == "feat"
    assert [r["overlay"] for r in report["images"]] == [
        "a_gradcam.png",
        "b_gradcam.png",
    ]
    image = keras.utils.img_to_array(
        keras.utils.load_img(files[0], target_size=(16, 16), interpolation="bilinear")
    )
    expected = explain(model, image[None], method="gradcam")
    first = report["images"][0]
    assert first["explained_class"] == int(expected.class_index[0])
    assert (
        first["explained_class_name"] == ["cat", "dog", "fox"][first["explained_class"]]
    )
    assert len(first["top_k"]) == 2 and (tmp_path / "out" / "a_gradcam.png").is_file()


def test_class_names_must_name_every_class(small, tmp_path):
    model, _ = small
    with pytest.raises(
        ValueError, match="`class_names` must name each of the model's 3"
    ):
        model_class_names(model, 3, ["cat", "dog"])
    (tmp_path / "names.txt").write_text("cat\ndog\nfox\n")
    assert model_class_names(model, 3, tmp_path / "names.txt") == ["cat", "dog", "fox"]
    assert model_class_names(model, 3) is None  # the model stores none


def test_load_model_names_what_it_takes(tmp_path):
    with pytest.raises(ValueError, match="`MODEL` must be a .keras file, a SavedModel"):
        load_model(tmp_path)
