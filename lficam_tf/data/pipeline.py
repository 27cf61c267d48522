"""`build_pipeline`: batching, augmentation and prefetching with `tf.data`.

Augmentation uses Keras preprocessing layers inside `tf.data` map calls
(`RandomCrop`, `RandomFlip`, `RandAugment`, `MixUp`, `CutMix`); Keras has no
random resized crop, so the "imagenet" recipe takes keras-cv's
`RandomCropAndResize` (imported only when that recipe is used).

Per-image augmentations (crop, flip, RandAugment) run on single images
before batching, because Keras' `RandomCrop` and `RandAugment` draw one
transformation per *batch*; MixUp and CutMix run on batches.
"""

import keras
import tensorflow as tf

from lficam_tf import choices
from lficam_tf.api_export import lficam_export
from lficam_tf.checks import check_mixing
from lficam_tf.data.checks import check_image_size, check_int
from lficam_tf.data.preprocess import resize_shorter_and_center_crop

#: Augmentation recipes (METHOD.md section 5): `lficam_tf.choices`' names,
#: and None, the same as "none".
AUGMENTATIONS = (None, *choices.AUGMENTATIONS)


def _element_image_shape(dataset):
    spec = dataset.element_spec
    ok = (
        isinstance(spec, tuple)
        and len(spec) == 2
        and isinstance(spec[0], tf.TensorSpec)
        and isinstance(spec[1], tf.TensorSpec)
        and spec[0].shape.rank == 3
        and spec[0].shape[-1] == 3
        and spec[1].shape.rank == 0
    )
    if not ok:
        raise ValueError(
            "`dataset` must yield unbatched (image, label) pairs: image of "
            "shape (height, width, 3), label a scalar, as the splits of "
            "`load_data` do. Received: dataset.element_spec="
            f"{spec}"
        )
    return spec[0].shape


def _cifar_augmentation(image_size, seed):
    height, width = image_size
    pad = max(1, round(height / 8)), max(1, round(width / 8))
    crop = keras.layers.RandomCrop(height, width, seed=seed)
    flip = keras.layers.RandomFlip("horizontal", seed=seed + 1)

    def augment(image):
        image = tf.pad(image, [[pad[0], pad[0]], [pad[1], pad[1]], [0, 0]])
        return flip(crop(image, training=True), training=True)

    return augment


def _imagenet_augmentation(image_size, seed):
    import keras_cv  # Keras lacks a random resized crop.

    crop = keras_cv.layers.RandomCropAndResize(
        target_size=image_size,
        crop_area_factor=(0.08, 1.0),
        aspect_ratio_factor=(3 / 4, 4 / 3),
        seed=seed,
    )
    flip = keras.layers.RandomFlip("horizontal", seed=seed + 1)

    def augment(image):
        image = crop(image, training=True)
        return flip(tf.clip_by_value(image, 0.0, 255.0), training=True)

    return augment


@lficam_export("lficam_tf.data.build_pipeline")
def build_pipeline(
    dataset,
    batch_size,
    training,
    image_size=None,
    augmentation=None,
    randaugment=False,
    mixup=0.0,
    cutmix=0.0,
    num_classes=None,
    one_hot=False,
    shuffle_buffer=10_000,
    seed=0,
    cache=True,
    drop_remainder=False,
):
    """Batch, augment and prefetch a split of `load_data` for `model.fit`.

    Order of the steps: resize / centre-crop (deterministic), round to uint8,
    cache, shuffle (training), back to float32, per-image augmentation
    (training), batch, MixUp / CutMix (training), prefetch. Decoding and
    augmentation run in parallel (`num_parallel_calls=tf.data.AUTOTUNE`,
    the CPU count: the autotuning thread is off, see `_options`).
    Images are held as uint8 in the cache and the shuffle buffer (4x less
    memory than float32): values are rounded to integers there, which
    changes nothing for stored images at their own size and at most 0.5 of
    255 for resized ones. Memory: the cache holds the whole split (turn it
    off, or pass a file prefix, for ImageNet-sized data), the shuffle
    buffer `shuffle_buffer` images (of their stored size before the
    "imagenet" random crop).

    The recipes (METHOD.md section 5) for `augmentation`:

    - `None`: images are only resized to `image_size` where they differ.
    - `"cifar"`: training: zero-pad by 1/8 of the side (4 pixels at 32x32),
      random crop back to `image_size`, random horizontal flip; evaluation:
      the images as they are.
    - `"imagenet"`: training: random resized crop (area 8% to 100%, aspect
      ratio 3/4 to 4/3) to `image_size`, random horizontal flip; evaluation:
      shorter side resized to `256 / 224 * size`, then the central crop.

    With `mixup > 0` or `cutmix > 0` the labels are one-hot float32 rows
    (mixed), so the model must be compiled with a categorical cross-entropy
    (`keras.losses.CategoricalCrossentropy(from_logits=True)`), not the
    sparse one; build the evaluation pipeline with `one_hot=True` to use the
    same loss there. With both, each batch gets MixUp or CutMix with equal
    probability.

    Randomness: shuffling is reproducible from `seed`; augmentations are
    seeded but, drawn in parallel map calls, not bit-reproducible. Call this
    outside a `tf.distribute` strategy scope (the augmentation layers' seed
    state must be plain variables).

    Args:
        dataset: `tf.data.Dataset` of unbatched `(image, label)` pairs, image
            float32 (or any real dtype) of shape `(height, width, 3)` in
            0..255, label an integer scalar (`DataBundle.train` / `.test`).
        batch_size: int. Images per batch.
        training: bool. Shuffle and augment (True) or keep the order and use
            the deterministic evaluation transform (False).
        image_size: `(height, width)` of the output images, or `None` for the
            size of the dataset's images (required when sizes vary).
            Defaults to `None`.
        augmentation: `None` (or `"none"`), `"cifar"` or `"imagenet"`.
            Defaults to `None`.
        randaugment: bool. Add Keras' `RandAugment` (2 ops, factor 0.5) per
            image after the recipe (training only). Defaults to `False`.
        mixup: float. MixUp's Beta(alpha, alpha) parameter alpha (0.2 is
            usual); 0 turns it off (training only). Defaults to `0.0`.
        cutmix: float in [0, 1]. Keras CutMix's `factor`: each batch draws
            the Beta(a, a) parameter a from (0, cutmix); 0 turns CutMix off
            (training only). Keras weighs the labels by the real-valued box
            area while pasting whole pixels (less than one pixel per side
            off). Defaults to `0.0`.
        num_classes: int. Needed for one-hot labels (MixUp, CutMix,
            `one_hot=True`). Defaults to `None`.
        one_hot: bool. One-hot labels even without MixUp / CutMix (for the
            evaluation pipeline of a model trained with them). Defaults to
            `False`.
        shuffle_buffer: int. Shuffle buffer size (training). Defaults to
            `10_000`.
        seed: int. Seed of the shuffle and of the augmentation layers.
            Defaults to `0`.
        cache: bool or str. Cache the decoded (and, for evaluation, resized)
            images in memory (`True`) or in files with this path prefix.
            Defaults to `True`.
        drop_remainder: bool. Drop the last, smaller batch. Defaults to
            `False`.

    Returns:
        A batched, prefetched `tf.data.Dataset` of `(images, labels)`:
        images float32 of shape `(batch_size, height, width, 3)` in 0..255,
        labels int32 of shape `(batch_size,)`, or float32 of shape
        `(batch_size, num_classes)` with MixUp, CutMix or `one_hot`.

    Example:

    >>> import numpy as np, tensorflow as tf
    >>> images = np.random.uniform(0, 255, (10, 32, 32, 3)).astype("float32")
    >>> labels = np.arange(10, dtype="int32") % 2
    >>> dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    >>> train = build_pipeline(dataset, 4, training=True, augmentation="cifar")
    >>> x, y = next(iter(train))
    >>> x.shape, x.dtype, y.shape, y.dtype
    (TensorShape([4, 32, 32, 3]), tf.float32, TensorShape([4]), tf.int32)

    Reference:
        - [Zhang et al., mixup, ICLR 2018](https://arxiv.org/abs/1710.09412)
        - [Yun et al., CutMix, ICCV 2019](https://arxiv.org/abs/1905.04899)
        - [Cubuk et al., RandAugment, 2019](https://arxiv.org/abs/1909.13719)
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            "`dataset` must be a tf.data.Dataset (e.g. `load_data(...).train`). "
            f"Received: dataset={type(dataset).__name__}"
        )
    check_int(batch_size, "batch_size", minimum=1)
    if not isinstance(training, bool):
        raise TypeError(f"`training` must be a bool. Received: training={training!r}")
    if augmentation not in AUGMENTATIONS:
        raise ValueError(
            f"`augmentation` must be one of {AUGMENTATIONS}. "
            f"Received: augmentation={augmentation!r}"
        )
    if augmentation == "none":
        augmentation = None
    mixup = check_mixing(mixup, "mixup")
    cutmix = check_mixing(cutmix, "cutmix")
    if not training and (randaugment or mixup or cutmix):
        raise ValueError(
            "`randaugment`, `mixup` and `cutmix` apply to training pipelines "
            "only. Received: training=False, "
            f"randaugment={randaugment!r}, mixup={mixup!r}, cutmix={cutmix!r}. "
            "For evaluating a model trained with MixUp / CutMix, pass "
            "one_hot=True instead."
        )
    one_hot = bool(one_hot) or mixup > 0 or cutmix > 0
    if one_hot:
        if num_classes is None:
            raise ValueError(
                "`num_classes` is needed for one-hot labels (mixup > 0, "
                "cutmix > 0 or one_hot=True). Pass num_classes=bundle.num_classes. "
                f"Received: num_classes=None, mixup={mixup}, cutmix={cutmix}"
            )
        check_int(num_classes, "num_classes", minimum=2)
    check_int(shuffle_buffer, "shuffle_buffer", minimum=1)
    check_int(seed, "seed", minimum=0)
    if not isinstance(cache, (bool, str)):
        raise TypeError(
            "`cache` must be a bool or a file path prefix (str). "
            f"Received: cache={cache!r}"
        )

    shape = _element_image_shape(dataset)
    if image_size is None:
        if shape[0] is None or shape[1] is None:
            raise ValueError(
                "`image_size` is required: the images of `dataset` vary in size "
                f"(element shape {tuple(shape)}). Pass e.g. image_size=(224, 224)."
            )
        image_size = (shape[0], shape[1])
    image_size = check_image_size(image_size)
    autotune = tf.data.AUTOTUNE

    # Deterministic stage: resize or centre-crop to `image_size`, then store
    # as uint8 (4x less memory in the cache and the shuffle buffer).
    if augmentation == "imagenet" and not training:

        def resize(image):
            image = resize_shorter_and_center_crop(image, image_size)
            return tf.ensure_shape(image, image_size + (3,))

    elif augmentation == "imagenet" or tuple(shape[:2]) == image_size:

        def resize(image):
            return image

    else:

        def resize(image):
            image = tf.image.resize(image, image_size, antialias=True)
            return tf.ensure_shape(image, image_size + (3,))

    def prepare(image, label):
        image = resize(tf.cast(image, tf.float32))
        image = tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)
        return image, tf.cast(label, tf.int32)

    dataset = dataset.map(prepare, num_parallel_calls=autotune)
    if cache is True:
        dataset = dataset.cache()
    elif cache:
        dataset = dataset.cache(cache)

    steps = []
    if training:
        dataset = dataset.shuffle(
            shuffle_buffer, seed=seed, reshuffle_each_iteration=True
        )
        if augmentation == "cifar":
            steps.append(_cifar_augmentation(image_size, seed))
        elif augmentation == "imagenet":
            steps.append(_imagenet_augmentation(image_size, seed))
        if randaugment:
            rand_augment = keras.layers.RandAugment(value_range=(0, 255), seed=seed + 2)
            steps.append(
                lambda image: tf.clip_by_value(
                    rand_augment(image, training=True), 0.0, 255.0
                )
            )

    def augment(image, label):
        image = tf.cast(image, tf.float32)
        for step in steps:
            image = step(image)
        return tf.ensure_shape(tf.cast(image, tf.float32), image_size + (3,)), label

    dataset = dataset.map(augment, num_parallel_calls=autotune)

    dataset = dataset.batch(
        batch_size, drop_remainder=drop_remainder, num_parallel_calls=autotune
    )
    if one_hot:
        dataset = dataset.map(
            lambda images, labels: (
                images,
                tf.one_hot(labels, num_classes, dtype=tf.float32),
            ),
            num_parallel_calls=autotune,
        )
    if mixup or cutmix:
        dataset = _mix(dataset, mixup, cutmix, seed)
    return dataset.prefetch(autotune).with_options(_options())


def _options():
    """tf.data options of every pipeline: no autotuning thread.

    With autotuning on, deleting an iterator waits for the autotuning
    thread's next wake-up (TensorFlow 2.21: up to ~10 s, the longer the
    iterator lived), and `model.fit` deletes the training and the
    evaluation iterators at the end of every epoch: seconds per epoch,
    which made training speed look bimodal (docs/PERFORMANCE.md). Without
    it, `AUTOTUNE` parallelism is the CPU count and prefetching keeps a
    batch ahead, which keeps the model fed here: the pipeline delivers
    several times the images/s the model trains at
    (benchmarks/input_pipeline.py).
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def _mix(dataset, mixup, cutmix, seed):
    """MixUp and / or CutMix on one-hot batches (one of the two per batch)."""
    layers = []
    if mixup:
        layers.append(keras.layers.MixUp(alpha=mixup, seed=seed + 3))
    if cutmix:
        layers.append(keras.layers.CutMix(factor=cutmix, seed=seed + 4))

    def apply(layer, images, labels):
        out = layer({"images": images, "labels": labels}, training=True)
        return tf.cast(out["images"], tf.float32), tf.cast(out["labels"], tf.float32)

    if len(layers) == 1:
        return dataset.map(
            lambda images, labels: apply(layers[0], images, labels),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    # One fair coin per batch, reproducible from `seed`.
    coins = tf.data.Dataset.random(seed=seed).map(lambda x: x % 2 == 0)

    def choose(batch, use_mixup):
        images, labels = batch
        return tf.cond(
            use_mixup,
            lambda: apply(layers[0], images, labels),
            lambda: apply(layers[1], images, labels),
        )

    return tf.data.Dataset.zip(dataset, coins).map(
        choose, num_parallel_calls=tf.data.AUTOTUNE
    )
