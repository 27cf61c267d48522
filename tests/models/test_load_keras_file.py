"""A damaged, empty or non-zip .keras file is named as damaged (Keras says
"File not found"), in the Python helper and in both command lines."""

import zipfile

import keras
import pytest

from lficam_tf.evaluation.cli import main as eval_main
from lficam_tf.explain.cli import main as explain_main
from lficam_tf.models.serialization import load_keras_file


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "good.keras"
    inputs = keras.Input((8, 8, 3))
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(path)
    return path


def _damaged(folder, good_file):
    empty = folder / "empty.keras"
    empty.write_bytes(b"")
    text = folder / "text.keras"
    text.write_text("not a model")
    cut = folder / "cut.keras"
    cut.write_bytes(good_file.read_bytes()[: good_file.stat().st_size // 2])
    other = folder / "other.keras"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return {
        empty: r"it is empty \(0 bytes\)",
        text: r"it is not a zip archive, as every \.keras file is \(11 bytes\)",
        cut: r"(it is not a zip archive|its zip archive cannot be read|\S+ in its zip archive is corrupt)",
        other: r"its zip archive holds no config\.json, so it is not a Keras model",
    }


def test_damaged_files_are_named_damaged(tmp_path, good_file):
    assert isinstance(load_keras_file(good_file), keras.Model)
    for path, reason in _damaged(tmp_path, good_file).items():
        with pytest.raises(
            ValueError, match=rf"which is damaged: {reason}.*\. Save the"
        ):
            load_keras_file(path, "MODEL")
    with pytest.raises(FileNotFoundError, match=r"which does not exist"):
        load_keras_file(tmp_path / "missing.keras")


@pytest.mark.parametrize("main", [explain_main, eval_main])
def test_the_command_lines_say_damaged(main, tmp_path, capsys):
    empty = tmp_path / "model.keras"
    empty.write_bytes(b"")
    image_folder = tmp_path / "images"
    image_folder.mkdir()
    keras.utils.save_img(image_folder / "a.png", keras.ops.zeros((8, 8, 3)).numpy())
    if main is explain_main:
        argv = [str(empty), str(image_folder), "--out", str(tmp_path / "out")]
    else:
        argv = [str(empty), "--data", "shapes", "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "which is damaged: it is empty (0 bytes)" in err, err
    assert "File not found" not in err
