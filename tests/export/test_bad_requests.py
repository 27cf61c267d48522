"""Bad requests fail inside the exported graph with a message that names
the problem (checked on the loaded SavedModel, as TF Serving runs it)."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

PNG = b"\x89PNG\r\n\x1a\n"
JPEG = b"\xff\xd8\xff"

CASES = [
    # (signature, input, value, message)
    (
        "serving_default",
        np.zeros((32, 32, 3), np.float32),
        r"`images` must be a batch of RGB images of shape \(batch_size, 32, 32, 3\)\. "
        r"Received: images.shape=\[32 32 3\]\. For a single image, add a batch axis",
    ),
    (
        "serving_default",
        np.zeros((2, 32, 32, 1), np.float32),
        r"`images` must have 3 channels \(RGB\)\. Received: images.shape=\[2 32 32 1\]",
    ),
    (
        "serving_default",
        np.zeros((0, 32, 32, 3), np.float32),
        r"`images` must hold at least one image; an empty batch is refused\. "
        r"Received: images.shape=\[0 32 32 3\]",
    ),
    (  # Two problems: the first one checked is named.
        "serving_default",
        np.zeros((0, 32, 32, 1), np.float32),
        r"an empty batch is refused\. Received: images.shape=\[0 32 32 1\]",
    ),
    (
        "serving_default",
        np.zeros((1, 16, 16, 3), np.float32),
        r"`images` must be 32x32, the input size of the model\. "
        r"Received: images.shape=\[1 16 16 3\]\. .*`serving_bytes`",
    ),
    (
        "serving_default",
        np.full((1, 32, 32, 3), -1.0, np.float32),
        r"`images` must be RGB values in 0\.\.255 .*Received: values in \[-1, -1\], 0 of them",
    ),
    (
        "serving_default",
        np.full((1, 32, 32, 3), np.nan, np.float32),
        r"`images` must be RGB values in 0\.\.255 .*3072 of them not finite",
    ),
    (
        "serving_uint8",
        np.zeros((32, 32), np.uint8),
        r"`images` must be a batch of RGB images .*Received: images.shape=\[32 32\]",
    ),
    (
        "serving_uint8",
        np.zeros((1, 32, 32, 4), np.uint8),
        r"`images` must have 3 channels .*Received: images.shape=\[1 32 32 4\]",
    ),
    (
        "serving_bytes",
        np.array([PNG + b"...", b"hello world, not an image"], object),
        r"`image_bytes` must be encoded images \(JPEG, PNG, GIF, BMP, WebP\)\. "
        r"Received: image_bytes\[i\] for i in \[1\] are none of these "
        r"\(the first bytes of the first one, in hex: .*68 65 6c 6c 6f 20 77 6f.*\)",
    ),
    (  # Bytes that are not UTF-8: the message itself stays readable.
        "serving_bytes",
        np.array([b"\xff\xfe\x00\x81\xc3("], object),
        r"for i in \[0\] are none of these .*in hex: .*ff fe 00 81 c3 28",
    ),
    (
        "serving_bytes",
        np.array(PNG, object),
        r"`image_bytes` must be a 1-D batch of encoded images, shape \(batch_size,\)\. "
        r"Received: image_bytes.shape=\[\]",
    ),
    (
        "serving_bytes",
        np.zeros((0,), object),
        r"`image_bytes` must hold at least one image; an empty batch is refused",
    ),
    # Right signature bytes, broken file: named by its index.
    (
        "serving_bytes",
        np.array([JPEG + b"garbage" * 9], object),
        r"`image_bytes` must be complete image files\. Received: image_bytes\[i\] "
        r"for i in \[0\] could not be decoded \(cut short or damaged",
    ),
    (
        "serving_bytes",
        np.array([PNG + b"x" * 30], object),
        r"image_bytes\[i\] for i in \[0\] could not be decoded",
    ),
]


def _call(model, signature, value):
    name = "image_bytes" if signature == "serving_bytes" else "images"
    dtype = tf.string if signature == "serving_bytes" else None
    return model.signatures[signature](**{name: tf.constant(value, dtype=dtype)})


@pytest.mark.parametrize(
    "signature, value, message", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_bad_request_names_the_problem(loaded, signature, value, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        _call(loaded["lficam"], signature, value)


def test_checks_are_in_every_export(loaded):
    for head in ("abn", "baseline"):
        with pytest.raises(
            tf.errors.InvalidArgumentError, match="must have 3 channels"
        ):
            _call(loaded[head], "serving_default", np.zeros((1, 32, 32, 1), np.float32))


def test_a_good_request_after_bad_ones_still_works(loaded):
    out = _call(loaded["lficam"], "serving_uint8", np.zeros((2, 32, 32, 3), np.uint8))
    assert out["probabilities"].shape == (2, 10)


def _jpeg(seed):
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_files_cut_short_are_named_by_their_index(loaded):
    good, other = _jpeg(0), _jpeg(1)
    batch = np.array([good, other[: len(other) // 2], good, good[:-40]], object)
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"image_bytes\[i\] for i in \[1 3\] could not be decoded",
    ):
        _call(loaded["lficam"], "serving_bytes", batch)


def test_another_dtype_names_each_signatures_dtype(loaded):
    float64 = tf.constant(np.zeros((1, 32, 32, 3)))
    for signature, pattern in [
        ("serving_default", "expected to be a float tensor but is a double"),
        ("serving_uint8", "expected to be a uint8 tensor but is a double"),
    ]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=pattern) as info:
            loaded["lficam"].signatures[signature](images=float64)
        message = str(info.value)
        for says in (
            "serving_default_takes_float32",
            "serving_uint8_takes_uint8",
            "serving_bytes_takes_encoded_files",
        ):
            assert says in message
