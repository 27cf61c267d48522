"""TF Serving's folder layout, versions, atomic writes and argument errors."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from lficam_tf.export import export, saved_model


def test_tf_serving_layout(exports, export_root):
    for head, path in exports.items():
        assert path == export_root / head / "1"
        assert (path / "saved_model.pb").is_file()
        assert (path / "variables" / "variables.index").is_file()
        assert list((path / "variables").glob("variables.data-*-of-*"))
        # Nothing else in the model's base folder: no partial version left.
        assert [p.name for p in (export_root / head).iterdir()] == ["1"]


def test_an_existing_version_is_never_overwritten(models, exports):
    path = exports["baseline"]
    before = (path / "saved_model.pb").stat().st_mtime_ns
    with pytest.raises(
        FileExistsError, match=r"Version 1 exists already: .*version=None .*\(here 2\)"
    ):
        export(models["baseline"], path.parent, version=1)
    assert (path / "saved_model.pb").stat().st_mtime_ns == before


def test_version_none_takes_the_next_and_writes_via_a_hidden_folder(
    models, tmp_path, monkeypatch
):
    (tmp_path / "3").mkdir()
    (tmp_path / "notes").mkdir()  # Not a version: ignored.
    seen = []
    real_write = saved_model.write_archive

    def spy(functions, path, **kwargs):
        # While it is written, the version TF Serving would load is absent.
        seen.append((path.name, (tmp_path / "4").exists()))
        return real_write(functions, path, **kwargs)

    monkeypatch.setattr(saved_model, "write_archive", spy)
    path = export(models["baseline"], tmp_path, version=None, top_k=2)
    assert path == tmp_path / "4"
    [(name, final_existed)] = seen
    assert re.fullmatch(r"\.4\.partial-[0-9a-f]{8}", name) and not final_existed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3", "4", "notes"]
    assert (path / "saved_model.pb").is_file()


def test_a_failed_export_leaves_no_version(models, tmp_path, monkeypatch):
    def write_half_then_fail(functions, path, **kwargs):
        (path / "saved_model.pb").write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(saved_model, "write_archive", write_half_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        export(models["baseline"], tmp_path / "m", version=7)
    assert list((tmp_path / "m").iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"version": 0},
            ValueError,
            r"`version` must be a positive int.*Received: version=0",
        ),
        (
            {"version": "2"},
            TypeError,
            r"`version` must be an int .*Received: version='2'",
        ),
        ({"top_k": 0}, ValueError, r"`top_k` must be at least 1. Received: top_k=0"),
        ({"top_k": 2.0}, TypeError, r"`top_k` must be an int. Received: top_k=2.0"),
        ({"class_names": "abc"}, TypeError, r"`class_names` must be a list of str"),
        (
            {"class_names": ["a", "b"]},
            ValueError,
            r"name each of the model's 10 classes. Received: 2 names",
        ),
    ],
)
def test_argument_errors(models, tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        export(models["baseline"], tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_model_and_folder_errors(models, tmp_path):
    with pytest.raises(
        TypeError, match=r"`model` must be a keras.Model .*Received: model='model'"
    ):
        export("model", tmp_path)
    with pytest.raises(
        TypeError, match=r"`export_dir` must be a str or path .*Received: export_dir=3"
    ):
        export(models["baseline"], 3)


def test_a_model_without_a_logits_dict_is_refused(tmp_path):
    inputs = keras.Input((8, 8, 3))
    plain = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match=r"`model` must return a dict with 'logits'"):
        export(plain, tmp_path)


def test_a_model_never_called_is_refused_in_our_words(tmp_path):
    # Keras' own "has never been called" names no fix.
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(
        ValueError,
        match=r"`model` must be a keras.Model from lficam_tf.build_model.*"
        r"Received: a Sequential that has never been called",
    ):
        export(model, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_top_k_is_capped_at_the_number_of_classes(models, tmp_path):
    path = export(models["baseline"], tmp_path, top_k=50)
    out = tf.saved_model.load(str(path)).signatures["serving_default"](
        images=tf.zeros((1, 32, 32, 3))
    )
    assert out["classes"].shape == (1, 10)
    np.testing.assert_array_equal(np.sort(out["classes"][0]), np.arange(10))


def test_a_model_without_a_fixed_rgb_input_size_is_refused(tmp_path):
    inputs = keras.Input((None, None, 3))
    logits = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(inputs))
    model = keras.Model(inputs, {"logits": logits})
    with pytest.raises(
        ValueError,
        match=r"a fixed size, \(batch_size, height, width, 3\)\. "
        r"Received: .*\(None, None, None, 3\)",
    ):
        export(model, tmp_path)


def test_an_attention_output_that_is_not_a_map_is_refused(tmp_path):
    inputs = keras.Input((8, 8, 3))
    maps = keras.layers.Conv2D(2, 1)(inputs)
    logits = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(inputs))
    model = keras.Model(inputs, {"logits": logits, "attention": maps})
    with pytest.raises(
        ValueError,
        match=r"'attention' output must be a map of shape \(batch_size, h, w, 1\)\. "
        r"Received: shape \(None, 8, 8, 2\)",
    ):
        export(model, tmp_path)
