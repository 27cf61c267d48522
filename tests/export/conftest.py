"""Shared fixtures of the export tests: models exported once per session.

- `models`: an LFI-CAM model trained 4 steps (so that its weights and
  batch-norm statistics are not the initial ones), an ABN and a baseline
  model, all cifar_resnet20 at 32x32 with 10 classes. The steps use SGD at
  lr 0.01: at the paper's 0.1, 4 steps on random labels take the logits to
  ~4500, where float32 rounding alone exceeds the tolerance, and the
  probabilities to exact 0 / 1 ties that make top-k ambiguous.
- `exports`: each exported once with `lficam_tf.export.export` under one
  base folder (`<root>/<head>/1`), the LFI-CAM one with class names.
- `requests`: one batch of images as float32, uint8 and encoded files
  (PNG, BMP and JPEG at the model's size, PNGs at half and double size).
- `expected`: what each signature must return, computed from the Keras
  model and numpy (softmax, top-k, bilinear up-sampling, the decoding and
  resizing of the encoded images), not from the export code.
"""

import io

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import lficam_tf
from lficam_tf.export import export

HEADS = ("lficam", "abn", "baseline")
NUM_CLASSES = 10
SIZE = 32
TOP_K = 3
CLASS_NAMES = [f"class_{i}" for i in range(NUM_CLASSES)]


# === numpy references ===


def softmax(logits):
    z = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def bilinear_matrix(n_in, n_out):
    """Rows: output pixels; bilinear weights, half-pixel centres, clamped."""
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        x = min(max((i + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1.0)
        lo = int(np.floor(x))
        hi = min(lo + 1, n_in - 1)
        m[i, lo] += 1.0 - (x - lo)
        m[i, hi] += x - lo
    return m


def antialias_halve_matrix(n_in):
    """Anti-aliased 2x down-scaling: triangle filter (1, 3, 3, 1) / 8,
    renormalised at the borders (tf.image.resize(antialias=True) at 1/2)."""
    m = np.zeros((n_in // 2, n_in))
    for i in range(n_in // 2):
        for j, weight in zip(range(2 * i - 1, 2 * i + 3), (1, 3, 3, 1)):
            if 0 <= j < n_in:
                m[i, j] = weight
        m[i] /= m[i].sum()
    return m


def resize_separable(images, rows, cols):
    """(B, H, W, C) resized by row / column weight matrices."""
    return np.einsum("ih,bhwc,jw->bijc", rows, images.astype(np.float64), cols)


def upsample(maps, size):
    """(B, h, w, 1) maps to (B, size, size, 1), bilinear, half-pixel centres."""
    return resize_separable(
        maps, bilinear_matrix(maps.shape[1], size), bilinear_matrix(maps.shape[2], size)
    )


def encode(array, fmt, **kwargs):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def keras_outputs(model, images):
    out = model(images.astype(np.float32), training=False)
    return {name: np.asarray(value) for name, value in out.items()}


def expected_outputs(model, images, class_names=None):
    """The signatures' outputs computed from the Keras model and numpy."""
    raw = keras_outputs(model, images)
    probabilities = softmax(raw["logits"].astype(np.float64))
    order = np.argsort(-probabilities, axis=-1, kind="stable")[:, :TOP_K]
    expected = {
        "logits": raw["logits"],
        "probabilities": probabilities,
        "classes": order,
        "scores": np.take_along_axis(probabilities, order, axis=-1),
    }
    if class_names is not None:
        expected["class_names"] = np.array(class_names, dtype=object)[order]
    if "attention" in raw:
        expected["attention_features"] = raw["attention"]
        expected["attention"] = upsample(raw["attention"], SIZE)
    for name in raw:
        if name not in ("logits", "attention"):
            expected[name] = raw[name]
    return expected


def assert_outputs_match(actual, expected, atol=1e-5, rtol=1e-5):
    """Same output names; numbers within `atol + rtol * |expected|` (the
    relative part matters for logits only: float32 resolves 1e-5 relative);
    classes and names equal."""
    assert sorted(actual) == sorted(expected)
    for name, value in expected.items():
        got = np.asarray(actual[name])
        assert got.shape == value.shape, name
        if name == "class_names":
            got = np.vectorize(lambda b: b.decode() if isinstance(b, bytes) else b)(got)
            np.testing.assert_array_equal(got, value)
        elif name == "classes":
            np.testing.assert_array_equal(got, value)
        else:
            np.testing.assert_allclose(got, value, rtol=rtol, atol=atol, err_msg=name)


# === fixtures ===


@pytest.fixture(scope="session")
def models():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (32, SIZE, SIZE, 3)).astype(np.float32)
    y = rng.integers(0, NUM_CLASSES, 32)
    keras.utils.set_random_seed(0)
    built = {}
    for head in HEADS:
        built[head] = lficam_tf.build_model(
            "cifar_resnet20", num_classes=NUM_CLASSES, head=head
        )
    lficam = built["lficam"]
    lficam.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9))
    history = lficam.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    return built


@pytest.fixture(scope="session")
def export_root(tmp_path_factory):
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="session")
def exports(models, export_root):
    paths = {}
    for head, model in models.items():
        names = CLASS_NAMES if head == "lficam" else None
        paths[head] = export(
            model, export_root / head, version=1, top_k=TOP_K, class_names=names
        )
    return paths


@pytest.fixture(scope="session")
def loaded(exports):
    return {head: tf.saved_model.load(str(path)) for head, path in exports.items()}


@pytest.fixture(scope="session")
def requests():
    """A batch of 3 uint8 images, and 5 encoded files with what they decode to."""
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)
    half = rng.integers(0, 256, (SIZE // 2, SIZE // 2, 3), dtype=np.uint8)
    double = rng.integers(0, 256, (2 * SIZE, 2 * SIZE, 3), dtype=np.uint8)
    jpeg = encode(images[2], "JPEG", quality=90)
    files = [
        encode(images[0], "PNG"),
        encode(images[1], "BMP"),
        jpeg,
        encode(half, "PNG"),
        encode(double, "PNG"),
    ]
    up = bilinear_matrix(SIZE // 2, SIZE)
    down = antialias_halve_matrix(2 * SIZE)
    decoded = np.concatenate(
        [
            images[:2].astype(np.float64),
            # TF's JPEG decoder differs from PIL's by a few levels (see
            # docs/serving.md), so the reference for the JPEG is TF's decoding.
            tf.io.decode_jpeg(jpeg, channels=3).numpy()[None].astype(np.float64),
            resize_separable(half[None], up, up),
            resize_separable(double[None], down, down),
        ]
    )
    return {
        "float": images.astype(np.float32),
        "uint8": images,
        "bytes": np.array(files, dtype=object),
        "decoded": decoded.astype(np.float32),
    }


@pytest.fixture(scope="session")
def expected(models, requests):
    """`expected[head][signature]`: the outputs each signature must give."""
    result = {}
    for head, model in models.items():
        names = CLASS_NAMES if head == "lficam" else None
        images = expected_outputs(model, requests["float"], names)
        result[head] = {
            "serving_default": images,
            "serving_uint8": images,
            "serving_bytes": expected_outputs(model, requests["decoded"], names),
        }
    return result


@pytest.fixture(scope="session")
def assert_match():
    """`assert_match(actual, expected, atol, rtol)`: `assert_outputs_match`."""
    return assert_outputs_match
