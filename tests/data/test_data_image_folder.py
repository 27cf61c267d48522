"""Image folders through `load_data`: layout, decoding, order, bad files."""

import pathlib

import numpy as np
import pytest
from PIL import Image

from lficam_tf.data import build_pipeline, load_data

CLASSES = ("cat", "dog", "eel")  # folder names, created unsorted below


def _write(path, array, format=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=format)


def _make_folder(root, per_class=(4, 2), size=(12, 10), seed=0):
    """PNG files (lossless) whose pixels encode split, class and index."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, count in zip(("train", "test"), per_class):
        for name in reversed(CLASSES):
            for i in range(count):
                array = rng.integers(0, 256, size + (3,), dtype=np.uint8)
                path = root / split / name / f"{i:03d}.png"
                _write(path, array)
                arrays[str(path)] = (array, CLASSES.index(name))
    return arrays


def test_loads_classes_labels_and_exact_pixels(tmp_path):
    arrays = _make_folder(tmp_path)
    bundle = load_data(str(tmp_path))
    assert bundle.class_names == CLASSES and bundle.num_classes == 3
    assert bundle.image_shape == (12, 10, 3)
    assert (bundle.train_size, bundle.test_size) == (12, 6)
    assert bundle.test_masks is None and bundle.name == str(tmp_path)
    by_pixels = {a.tobytes(): label for a, label in arrays.values()}
    seen = []
    for image, label in bundle.train:
        assert image.dtype.name == "float32" and label.dtype.name == "int32"
        key = image.numpy().astype(np.uint8).tobytes()
        assert by_pixels[key] == int(label)  # decoded exactly, right label
        seen.append(key)
    assert len(set(seen)) == 12
    # The file order is shuffled by seed (classes mixed), reproducibly.
    labels = [int(y) for _, y in bundle.train]
    assert labels != sorted(labels)
    assert labels == [int(y) for _, y in load_data(str(tmp_path)).train]
    assert labels != [int(y) for _, y in load_data(str(tmp_path), seed=1).train]


def test_subsets_resizing_and_pipeline(tmp_path):
    _make_folder(tmp_path)
    bundle = load_data(tmp_path, image_size=(8, 8), num_train=5, num_test=2)
    assert bundle.image_shape == (8, 8, 3)
    assert (bundle.train_size, bundle.test_size) == (5, 2)
    assert len(list(bundle.train)) == 5
    x, y = next(iter(build_pipeline(bundle.train, 5, True, augmentation="cifar")))
    assert x.shape == (5, 8, 8, 3) and y.shape == (5,)


def test_jpeg_grey_and_varying_sizes(tmp_path):
    rng = np.random.default_rng(1)
    for split in ("train", "test"):
        _write(
            tmp_path / split / "a" / "x.jpg",
            rng.integers(0, 256, (20, 30, 3), dtype=np.uint8),
        )
        _write(
            tmp_path / split / "b" / "y.png",
            rng.integers(0, 256, (16, 16), dtype=np.uint8),
        )
        (tmp_path / split / "b" / "notes.txt").write_text("not an image: ignored")
        (tmp_path / split / "b" / ".hidden.png").write_bytes(b"")  # ignored
    bundle = load_data(str(tmp_path))
    assert bundle.image_shape is None  # 20x30 and 16x16
    shapes = sorted(tuple(image.shape) for image, _ in bundle.test)
    assert shapes == [(16, 16, 3), (20, 30, 3)]
    grey = [image.numpy() for image, label in bundle.test if int(label) == 1][0]
    np.testing.assert_array_equal(grey[..., 0], grey[..., 1])
    x, _ = next(iter(build_pipeline(bundle.train, 2, False, image_size=(16, 16))))
    assert x.shape == (2, 16, 16, 3)


def test_shared_cifar10_test_split(cifar10_test_folder, tmp_path):
    # The shared archive holds the test split only: use it for both splits.
    for split in ("train", "test"):
        (tmp_path / split).symlink_to(cifar10_test_folder, target_is_directory=True)
    bundle = load_data(str(tmp_path), num_train=64)
    assert bundle.class_names == (
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    )  # fmt: skip
    assert bundle.test_size == 10_000 and bundle.train_size == 64
    assert bundle.image_shape == (32, 32, 3)
    x, y = next(iter(build_pipeline(bundle.test, 256, False)))
    assert x.shape == (256, 32, 32, 3)
    assert float(x.numpy().min()) >= 0 and float(x.numpy().max()) <= 255
    assert float(x.numpy().std()) > 20  # real images, not blank
    assert len(set(y.numpy().tolist())) == 10  # shuffled order: all classes


# === Bad folders ===


def test_missing_folder(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(
        FileNotFoundError, match=r"'.*nowhere' does not exist.*train/<class>/<image>"
    ):
        load_data(str(missing))


def test_file_instead_of_folder(tmp_path):
    path = tmp_path / "images.zip"
    path.write_bytes(b"PK")
    with pytest.raises(
        ValueError, match=r"must be a folder laid out as.*Received a file"
    ):
        load_data(str(path))


@pytest.mark.parametrize("missing", ["train", "test"])
def test_no_split_subfolder(tmp_path, missing):
    _make_folder(tmp_path)
    for file in (tmp_path / missing).rglob("*.png"):
        file.unlink()
    for folder in sorted((tmp_path / missing).rglob("*"), reverse=True):
        folder.rmdir()
    (tmp_path / missing).rmdir()
    with pytest.raises(
        ValueError, match=rf"has no '{missing}' subfolder \(subfolders found: \["
    ):
        load_data(str(tmp_path))


def test_empty_folder(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    with pytest.raises(ValueError, match=r"train' has no class subfolders"):
        load_data(str(tmp_path))


def test_class_folder_without_images(tmp_path):
    _make_folder(tmp_path)
    (tmp_path / "test" / "fox").mkdir()
    (tmp_path / "train" / "fox").mkdir()
    (tmp_path / "train" / "fox" / "readme.txt").write_text("no images here")
    with pytest.raises(
        ValueError, match=r"class folder '.*train/fox' has no images \(files ending in"
    ):
        load_data(str(tmp_path))


def test_test_classes_differ(tmp_path):
    _make_folder(tmp_path)
    _write(tmp_path / "test" / "fox" / "0.png", np.zeros((12, 10, 3), np.uint8))
    with pytest.raises(
        ValueError, match=r"Missing in 'test': \[\]; not in 'train': \['fox'\]"
    ):
        load_data(str(tmp_path))


def test_corrupt_images_are_named(tmp_path):
    _make_folder(tmp_path)
    empty = tmp_path / "train" / "cat" / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "test" / "dog" / "text.png"
    text.write_text("this is no PNG")
    good = next((tmp_path / "train" / "eel").glob("*.png")).read_bytes()
    cut = tmp_path / "train" / "eel" / "cut.png"
    cut.write_bytes(good[:20])  # header cut short
    with pytest.raises(ValueError, match=r"3 image file\(s\) cannot be read") as info:
        load_data(str(tmp_path))
    message = str(info.value)
    for path in (empty, text, cut):
        assert str(path) in message
    assert "Delete or replace these files" in message


def test_damaged_pixel_data_needs_decode_check(tmp_path):
    _make_folder(tmp_path)
    array = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = tmp_path / "train" / "cat" / "damaged.jpg"
    _write(path, array)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])  # header intact, pixels cut
    bundle = load_data(str(tmp_path), check_images="header")  # not seen
    assert bundle.image_shape is None  # 64x64 among 12x10
    with pytest.raises(
        ValueError, match=rf"1 image file\(s\) cannot be read:\n  {path}"
    ):
        load_data(str(tmp_path), check_images="decode")
    with pytest.raises(ValueError, match=r"`check_images` must be one of"):
        load_data(str(tmp_path), check_images="full")


def test_no_check_leaves_shape_unknown(tmp_path):
    _make_folder(tmp_path)
    assert load_data(str(tmp_path), check_images="none").image_shape is None


def test_data_dir_with_folder_is_refused(tmp_path):
    _make_folder(tmp_path)
    with pytest.raises(
        ValueError,
        match=r"`data_dir` applies to TFDS datasets only; for an image folder",
    ):
        load_data(str(tmp_path), data_dir=str(pathlib.Path(tmp_path).parent))


def _damage(path, how):
    """A JPEG whose header reads but whose decoding fails."""
    array = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    _write(path, array, format="JPEG")
    data = path.read_bytes()
    if how == "cut":
        path.write_bytes(data[: len(data) * 2 // 3])  # pixel data cut short
    else:  # a broken Huffman table, just after the header
        start = data.index(b"\xff\xc4") + 5
        path.write_bytes(data[:start] + b"\xff" * 16 + data[start + 16 :])


def test_default_check_names_every_file_damaged_after_its_header(tmp_path):
    _make_folder(tmp_path)
    cut = tmp_path / "train" / "cat" / "cut.jpg"
    table = tmp_path / "test" / "dog" / "table.jpg"
    _damage(cut, "cut")
    _damage(table, "table")
    # Both pass the header check, and training would fail on them.
    header_only = load_data(str(tmp_path), check_images="header")
    with pytest.raises(Exception, match="DecodeImage|JPEG"):
        for _ in header_only.train:
            pass
    with pytest.raises(ValueError, match=r"2 image file\(s\) cannot be read") as info:
        load_data(str(tmp_path))
    lines = str(info.value).splitlines()
    for path in (cut, table):
        (line,) = [line for line in lines if str(path) in line]
        assert "JPEG" in line  # TensorFlow's reason, without its node name
        assert "function_node" not in line and "[Op:" not in line


def test_decode_check_gives_the_sizes(tmp_path):
    _make_folder(tmp_path)
    assert load_data(str(tmp_path), check_images="decode").image_shape == (12, 10, 3)
    _write(tmp_path / "test" / "cat" / "big.webp", np.zeros((20, 20, 3), np.uint8))
    assert load_data(str(tmp_path)).image_shape is None  # 20x20 among 12x10


def test_a_single_class_is_refused(tmp_path):
    _write(tmp_path / "train" / "cat" / "0.png", np.zeros((4, 4, 3), np.uint8))
    _write(tmp_path / "test" / "cat" / "0.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(
        ValueError,
        match=r"must have at least 2 classes .*Received: the single class folder "
        r"'.*train/cat'\. Add a folder",
    ):
        load_data(str(tmp_path))
