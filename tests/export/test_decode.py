"""`serving_bytes` brings images to the model's size with the evaluation
transforms of `lficam_tf.data` (resize, or resize and central crop)."""

import io

import numpy as np
import tensorflow as tf
from PIL import Image

from lficam_tf.data.preprocess import resize_shorter_and_center_crop
from lficam_tf.export.signatures import ServingFunctions


def png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_center_crop_uses_the_imagenet_evaluation_transform(models):
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    functions = ServingFunctions(models["baseline"], top_k=3, center_crop=True)
    decoded = functions.decode(tf.constant([png(image)])).numpy()
    want = resize_shorter_and_center_crop(tf.constant(image, tf.float32), (32, 32))
    np.testing.assert_allclose(decoded[0], want.numpy(), atol=1e-4)
    # Not the plain resize: the crop keeps the aspect ratio.
    plain = ServingFunctions(models["baseline"], top_k=3).decode(
        tf.constant([png(image)])
    )
    assert np.abs(plain.numpy() - decoded).max() > 10


def test_grey_and_rgba_files_become_rgb(models):
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, (32, 32), dtype=np.uint8)
    rgba = rng.integers(0, 256, (32, 32, 4), dtype=np.uint8)
    functions = ServingFunctions(models["baseline"], top_k=3)
    decoded = functions.decode(tf.constant([png(grey), png(rgba)])).numpy()
    np.testing.assert_array_equal(decoded[0], np.repeat(grey[..., None], 3, -1))
    np.testing.assert_array_equal(decoded[1], rgba[..., :3])


def test_webp_files_are_served_as_training_reads_them(loaded):
    # Image folders train on WebP (lficam_tf.image_formats): serving takes it.
    image = np.random.default_rng(4).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="WEBP", lossless=True)
    serve = loaded["lficam"].signatures["serving_bytes"]
    from_webp = serve(image_bytes=tf.constant([buffer.getvalue()]))
    from_png = serve(image_bytes=tf.constant([png(image)]))
    for name in ("probabilities", "attention"):
        np.testing.assert_array_equal(from_webp[name].numpy(), from_png[name].numpy())
