"""Per-image conversions shared by the data sources and the pipeline."""

import tensorflow as tf


def to_model_image(image, image_size=None):
    """An image tensor as float32 RGB in 0..255, optionally resized.

    Args:
        image: a `(height, width, channels)` tensor of any real dtype with
            values in 0..255; 1 channel is repeated to RGB, a 4th (alpha)
            channel is dropped.
        image_size: `(height, width)` to resize to (bilinear, antialiased,
            aspect ratio not kept), or `None` to keep the size.

    Returns:
        A float32 tensor of shape `(height, width, 3)`.
    """
    image = tf.cast(image, tf.float32)
    channels = image.shape[-1]
    if channels == 1:
        image = tf.image.grayscale_to_rgb(image)
    elif channels == 4 or channels is None:
        image = image[..., :3]
    if image_size is not None:
        image = tf.image.resize(image, image_size, method="bilinear", antialias=True)
        image = tf.clip_by_value(image, 0.0, 255.0)
    return image


def resize_shorter_and_center_crop(image, image_size, ratio=256 / 224):
    """The ImageNet evaluation transform: resize, then a central crop.

    The shorter side is resized to `round(ratio * size)` (256 for a size of
    224) keeping the aspect ratio, then the central `image_size` is cut out.

    Args:
        image: float32 tensor of shape `(height, width, 3)`.
        image_size: `(height, width)` of the crop.
        ratio: float. Resize target over crop size. Defaults to `256 / 224`.

    Returns:
        A float32 tensor of shape `(image_size[0], image_size[1], 3)`.
    """
    crop_h, crop_w = image_size
    target = tf.cast(round(ratio * max(crop_h, crop_w)), tf.float32)
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = target / tf.reduce_min(shape)
    new_size = tf.maximum(
        tf.cast(tf.round(shape * scale), tf.int32), tf.constant([crop_h, crop_w])
    )
    image = tf.image.resize(image, new_size, method="bilinear", antialias=True)
    image = tf.image.resize_with_crop_or_pad(image, crop_h, crop_w)
    return tf.clip_by_value(image, 0.0, 255.0)
