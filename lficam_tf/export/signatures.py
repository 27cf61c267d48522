"""The serving functions of an exported classifier: checks, decoding, outputs.

`ServingFunctions(model, ...)` holds three plain Python functions that
`lficam_tf.export.export` turns into the SavedModel's signatures:

- `serving_default(images)`: float32 RGB in 0..255;
- `serving_uint8(images)`: uint8 RGB;
- `serving_bytes(image_bytes)`: encoded image files (the formats of
  `lficam_tf.image_formats`: JPEG, PNG, GIF, BMP, WebP), which are decoded
  to RGB and resized to the model's input size.

Every request is checked inside the graph with `tf.debugging.Assert` before
the model runs, so that TF Serving and `tf.saved_model.load` answer a bad
request with the same message, worded
"`images` must be ... Received: images.shape=[...]". The inputs are declared
with an unknown rank for that reason: with a declared shape, Python callers
get a generic shape-binding error first, and graph optimisation (Grappler)
folds the shape checks away, as it also does when a check's tensor later
goes through `tf.ensure_shape` (so `tf.reshape` gives the static shape here).
`serving_bytes` decodes in a `tf.data` map whose failures `ignore_errors`
drops, so that a damaged file is named by its index in the batch. A request
of another dtype than the signature's fails in TensorFlow before the graph
runs; the functions' names (`ENDPOINT_NAME`), which TensorFlow's message
quotes, say which signature takes which dtype.
"""

import tensorflow as tf

from lficam_tf.image_formats import FORMAT_NAMES, IMAGE_FORMATS
from lficam_tf.models.outputs import ATTENTION, LOGITS

#: `(name, ((offset, bytes), ...))`: how each format's files start.
IMAGE_SIGNATURES = tuple((f.name, f.signature) for f in IMAGE_FORMATS)

#: The name of the signatures' functions. TensorFlow quotes it when a
#: request has another dtype than the signature ("cannot compute
#: __inference_signature_wrapper_<name>_123 as input #0 was expected to be a
#: float tensor but is a double tensor"), so it says which takes which.
ENDPOINT_NAME = (
    "serving_default_takes_float32__serving_uint8_takes_uint8__"
    "serving_bytes_takes_encoded_files"
)

#: Two hex digits per byte value, to show received bytes in messages (raw
#: bytes that are not UTF-8 would make the message itself undecodable).
_HEX = tuple(f"{i:02x}" for i in range(256))


def _hex_prefix(strings, length=8):
    """The first `length` bytes of a batch of <= 1 string, as "ff d8 00"."""
    chars = tf.strings.bytes_split(tf.strings.substr(strings, 0, length))
    codes = tf.reshape(tf.io.decode_raw(chars.flat_values, tf.uint8), [-1])
    digits = tf.gather(tf.constant(_HEX), tf.cast(codes, tf.int32))
    return tf.strings.reduce_join(digits, separator=" ")


def _require(condition, template, *values):
    """`tf.debugging.Assert` with a message formatted from runtime values.

    `template` uses `{}` for each of `values` (tensors), as
    `tf.strings.format` does.
    """
    message = tf.strings.format(template, values, summarize=8)
    return tf.debugging.Assert(condition, [message])


def _checks_in_order(checks):
    """One `tf.debugging.Assert` per `(condition, template, values)`.

    A check fails only if all the checks before it passed, so that exactly
    one message, the first problem's, is raised whatever order the runtime
    runs the asserts in.
    """
    asserts, passed = [], tf.constant(True)
    for condition, template, values in checks:
        earlier_failed = tf.logical_not(passed)
        asserts.append(
            _require(tf.logical_or(earlier_failed, condition), template, *values)
        )
        passed = tf.logical_and(passed, condition)
    return asserts


def _after(checks, tensor):
    """`tensor`, computed only once every op in `checks` has run."""
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


class ServingFunctions:
    """The signatures' bodies for one classifier of `lficam_tf.build_model`.

    Args:
        model: a built classifier whose outputs are a dict with `"logits"`
            and, for LFI-CAM and ABN, `"attention"` of shape
            `(batch_size, h, w, 1)`.
        top_k: int. Number of top classes returned. At most the number of
            classes.
        class_names: list of str or None. If given, a `class_names` output
            holds the names of the top-k classes. Defaults to `None`.
        center_crop: bool. How `serving_bytes` brings images to the
            model's size: `False` resizes them (bilinear, anti-aliased,
            aspect ratio not kept), `True` resizes the shorter side to
            256/224 of the size and cuts the central crop. These are the
            evaluation transforms of `lficam_tf.data.build_pipeline`
            (`augmentation=None` or `"cifar"`, and `"imagenet"`). Defaults
            to `False`.
        checks: bool. Whether to check requests in the graph. Defaults to
            `True`; `False` only for TFLite, whose converter has no Assert.
    """

    def __init__(self, model, top_k, class_names=None, center_crop=False, checks=True):
        self.model = model
        _, self.height, self.width, _ = model.inputs[0].shape
        self.top_k = top_k
        self.class_names = None if class_names is None else list(class_names)
        self.center_crop = center_crop
        self.checks = checks

    # === Request checks ===

    def _check_images(self, images, values):
        """Rank 4, non-empty, 3 channels, the model's size (and 0..255).

        Returns `images` with the static shape `(None, height, width, 3)`,
        computed only once every check has passed.
        """
        h, w = self.height, self.width
        if not self.checks:
            return tf.reshape(images, (-1, h, w, 3))
        expected = f"(batch_size, {h}, {w}, 3)"
        shape = tf.shape(images)
        # Padded to 4 entries, so that no op fails before its check has run.
        dims = tf.concat([shape, tf.zeros(4, shape.dtype)], axis=0)[:4]
        checks = [
            (
                tf.equal(tf.size(shape), 4),
                f"`images` must be a batch of RGB images of shape {expected}. "
                "Received: images.shape={}. For a single image, add a batch "
                "axis (send a list of one image).",
                [shape],
            ),
            (
                dims[0] > 0,
                "`images` must hold at least one image; an empty batch is "
                "refused. Received: images.shape={}.",
                [shape],
            ),
            (
                tf.equal(dims[3], 3),
                "`images` must have 3 channels (RGB). Received: "
                "images.shape={}. Repeat a grey channel 3 times; drop an "
                "alpha channel.",
                [shape],
            ),
            (
                tf.logical_and(tf.equal(dims[1], h), tf.equal(dims[2], w)),
                f"`images` must be {h}x{w}, the input size of the model. "
                "Received: images.shape={}. Resize them, or send the encoded "
                "images to the `serving_bytes` signature, which resizes.",
                [shape],
            ),
        ]
        if values:
            non_finite = tf.math.count_nonzero(
                tf.logical_not(tf.math.is_finite(images))
            )
            low, high = tf.reduce_min(images), tf.reduce_max(images)
            in_range = tf.logical_and(low >= 0, high <= 255)
            checks.append(
                (
                    tf.logical_and(tf.equal(non_finite, 0), in_range),
                    "`images` must be RGB values in 0..255 (the model "
                    "normalises them itself). Received: values in [{}, {}], "
                    "{} of them not finite.",
                    [low, high, non_finite],
                )
            )
        images = _after(_checks_in_order(checks), images)
        return tf.reshape(images, (-1, h, w, 3))

    def _check_bytes(self, image_bytes):
        """Rank 1, non-empty, known image formats; returns a 1-D batch."""
        if not self.checks:
            return tf.reshape(image_bytes, (-1,))
        shape = tf.shape(image_bytes)
        flat = tf.reshape(image_bytes, (-1,))  # Never fails, whatever the rank.
        # The first bytes, padded: `substr` fails (echoing the bytes) when
        # a string is shorter than the position asked.
        length = max(o + len(m) for _, sig in IMAGE_SIGNATURES for o, m in sig)
        head = tf.strings.join([tf.strings.substr(flat, 0, length), b"\0" * length])
        known = tf.zeros_like(flat, dtype=tf.bool)
        for _, signature in IMAGE_SIGNATURES:
            matches = tf.ones_like(flat, dtype=tf.bool)
            for offset, magic in signature:
                start = tf.strings.substr(head, offset, len(magic))
                matches = tf.logical_and(matches, tf.equal(start, magic))
            known = tf.logical_or(known, matches)
        bad = tf.where(tf.logical_not(known))[:, 0]
        names = FORMAT_NAMES
        checks = [
            (
                tf.equal(tf.size(shape), 1),
                "`image_bytes` must be a 1-D batch of encoded images, shape "
                "(batch_size,). Received: image_bytes.shape={}. Send a list, "
                "one image per instance.",
                [shape],
            ),
            (
                tf.size(flat) > 0,
                "`image_bytes` must hold at least one image; an empty batch "
                "is refused. Received: image_bytes.shape={}.",
                [shape],
            ),
            (
                tf.reduce_all(known),
                f"`image_bytes` must be encoded images ({names}). Received: "
                "image_bytes[i] for i in {} are none of these (the first "
                "bytes of the first one, in hex: {}). Send the bytes of image "
                "files (base64 encoded in a b64 object in JSON).",
                [bad, _hex_prefix(tf.gather(flat, bad[:1]))],
            ),
        ]
        image_bytes = _after(_checks_in_order(checks), image_bytes)
        return tf.reshape(image_bytes, (-1,))

    # === Outputs ===

    def outputs(self, images):
        """The model on float images `(batch_size, height, width, 3)`."""
        out = self.model(images, training=False)
        logits = tf.cast(out[LOGITS], tf.float32)
        probabilities = tf.nn.softmax(logits, axis=-1)
        scores, classes = tf.math.top_k(probabilities, k=self.top_k)
        result = {
            LOGITS: logits,
            "probabilities": probabilities,
            "classes": classes,
            "scores": scores,
        }
        if self.class_names is not None:
            result["class_names"] = tf.gather(tf.constant(self.class_names), classes)
        if ATTENTION in out:
            features = tf.cast(out[ATTENTION], tf.float32)
            upsampled = tf.image.resize(
                features, (self.height, self.width), method="bilinear"
            )
            result["attention_features"] = features
            result[ATTENTION] = tf.clip_by_value(upsampled, 0.0, 1.0)
        for name, value in out.items():
            if name not in (LOGITS, ATTENTION):
                result[name] = (
                    tf.cast(value, tf.float32) if value.dtype.is_floating else value
                )
        return result

    # === Signatures ===

    def serve_float(self, images):
        return self.outputs(self._check_images(images, values=True))

    def serve_uint8(self, images):
        return self.outputs(
            tf.cast(self._check_images(images, values=False), tf.float32)
        )

    def decode(self, image_bytes):
        """Encoded images `(batch_size,)` -> float RGB `(batch_size, h, w, 3)`."""
        h, w = self.height, self.width

        # The training pipeline's transforms, so that a served image is seen
        # as an evaluated one was (imported here: lficam_tf.data loads TFDS).
        from lficam_tf.data.preprocess import (
            resize_shorter_and_center_crop,
            to_model_image,
        )

        def decode_one(data):
            image = tf.io.decode_image(data, channels=3, expand_animations=False)
            image.set_shape((None, None, 3))
            if self.center_crop:
                image = resize_shorter_and_center_crop(
                    tf.cast(image, tf.float32), (h, w)
                )
            else:  # Resizing to the same size is exactly the identity.
                image = to_model_image(image, (h, w))
            return tf.ensure_shape(image, (h, w, 3))

        flat = self._check_bytes(image_bytes)
        if not self.checks:  # TFLite: no tf.data, no Assert.
            return tf.map_fn(
                decode_one,
                flat,
                fn_output_signature=tf.TensorSpec((h, w, 3), tf.float32),
            )
        # Decode in a tf.data map whose failures `ignore_errors` drops: the
        # indices that are missing afterwards name the damaged files.
        count = tf.size(flat, out_type=tf.int64)
        decoded = (
            tf.data.Dataset.from_tensor_slices((tf.range(count), flat))
            .map(
                lambda index, data: (index, decode_one(data)),
                num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True,
            )
            .ignore_errors()
            .batch(tf.maximum(count, 1))
        )
        nothing = tf.data.Dataset.from_tensors(
            (tf.zeros((0,), tf.int64), tf.zeros((0, h, w, 3), tf.float32))
        )
        indices, images = decoded.concatenate(nothing).take(1).get_single_element()
        ok = tf.scatter_nd(indices[:, None], tf.ones_like(indices), [count])
        failed = tf.where(tf.equal(ok, 0))[:, 0]
        checks = _checks_in_order(
            [
                (
                    tf.equal(tf.size(failed), 0),
                    "`image_bytes` must be complete image files. Received: "
                    "image_bytes[i] for i in {} could not be decoded (cut "
                    "short or damaged after the header). Send these files "
                    "again, or check them with an image viewer.",
                    [failed],
                )
            ]
        )
        return _after(checks, images)

    def serve_bytes(self, image_bytes):
        return self.outputs(self.decode(image_bytes))

    def endpoints(self):
        """`{signature name: (function, input_signature)}`."""
        # Unknown rank, so that the checks above name the problem; without
        # checks (TFLite) the shapes are declared.
        images = None if self.checks else (None, self.height, self.width, 3)
        batch = None if self.checks else (None,)
        return {
            "serving_default": (
                _named(self.serve_float),
                [tf.TensorSpec(images, tf.float32, name="images")],
            ),
            "serving_uint8": (
                _named(self.serve_uint8),
                [tf.TensorSpec(images, tf.uint8, name="images")],
            ),
            "serving_bytes": (
                _named(self.serve_bytes),
                [tf.TensorSpec(batch, tf.string, name="image_bytes")],
            ),
        }


def _named(method):
    """`method` under `ENDPOINT_NAME`, which dtype errors quote."""

    def endpoint(inputs):
        return method(inputs)

    endpoint.__name__ = endpoint.__qualname__ = ENDPOINT_NAME
    return endpoint
