"""Bad requests fail inside the exported graph with a message that names
the problem (checked on the loaded SavedModel, as TF Serving runs it)."""

import numpy as np
import pytest
import tensorflow as tf

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
        r"`image_bytes` must be encoded images \(JPEG, PNG, GIF, BMP\)\. "
        r"Received: image_bytes\[i\] for i in \[1\] are none of these "
        r"\(the first bytes of the first one: \[.*hello wo.*\]\)",
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
    # Right signature bytes, broken file: TensorFlow's decoders name it.
    ("serving_bytes", np.array([JPEG + b"garbage" * 9], object), r"Invalid JPEG data"),
    ("serving_bytes", np.array([PNG + b"x" * 30], object), r"Invalid PNG"),
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
