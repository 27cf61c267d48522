"""Deletion and Insertion AUC (RISE, Petsiuk et al. 2018).

The pixels of image i are ranked by its map, highest first; ties are broken
by raster order (row by row, the smaller flat index `row * width + col`
first), with a stable sort of the negated map. Over `steps` equal chunks,
after step k = 0..steps the first n_k = floor(k * H * W / steps) pixels of
that order are

- **deleted**: replaced by the baseline image (the curve starts at the full
  image and ends at the baseline); lower AUC is better: a good map removes
  the evidence first;
- **inserted**: copied from the image into the baseline image (the curve
  starts at the baseline and ends at the full image); higher AUC is better.

A pixel is replaced in all its channels. The curve is p_k = p(c | image at
step k), the probability of the explained class c (by default the class
predicted on the full image), at x_k = n_k / (H * W), and the AUC is the
trapezoid rule over x in [0, 1]:

    AUC = sum_{k=1..steps} (x_k - x_{k-1}) * (p_{k-1} + p_k) / 2

When H * W is a multiple of `steps`, x_k = k / steps exactly as in RISE.

Baselines (images are raw RGB in 0..255): `"zeros"` is a black image (RISE's
deletion substrate, here black rather than the normalised-space zero);
`"blur"` the image blurred by a Gaussian (RISE's insertion substrate, an
11 x 11 kernel with sigma 5 by default), computed as a normalised
convolution so that the borders are weighted averages of the in-image
pixels (no darkening, no minimum image size); `"mean"` a constant image of
the image's own per-channel mean colour. Any array that broadcasts to the
images is accepted too (e.g. a dataset mean colour of shape (3,)).
"""

import dataclasses

import numpy as np
from keras import ops

from lficam_tf.api_export import lficam_export
from lficam_tf.metrics import _checks

BASELINES = ("zeros", "blur", "mean")


@lficam_export("lficam_tf.metrics.PerturbationCurves")
@dataclasses.dataclass(frozen=True)
class PerturbationCurves:
    """Deletion or insertion curves and their areas.

    Attributes:
        class_index: int array `(batch_size,)`, the class c of each curve.
        fractions: float array `(steps + 1,)`, x_k = n_k / (H * W) from 0 to 1.
        curves: float array `(batch_size, steps + 1)`, p(c) at each step.
        auc: float array `(batch_size,)`, trapezoid area of each curve.
    """

    class_index: np.ndarray
    fractions: np.ndarray
    curves: np.ndarray
    auc: np.ndarray

    @property
    def mean_auc(self):
        """The mean of `auc` over the images."""
        return float(np.mean(self.auc))


def _gaussian_blur(images, sigma, kernel_size):
    """Gaussian blur of (B, H, W, C) images as a normalised convolution.

    blur(x)[p] = sum_q w(p - q) x[q] / sum_q w(p - q) over the pixels q inside
    the image, with w(dy, dx) = g(dy) g(dx), g(d) = exp(-d^2 / (2 sigma^2)),
    |dy|, |dx| <= kernel_size // 2.
    """
    offsets = np.arange(kernel_size, dtype=np.float64) - kernel_size // 2
    gaussian = np.exp(-(offsets**2) / (2.0 * sigma**2))
    kernel = np.outer(gaussian, gaussian) / gaussian.sum() ** 2
    kernel = kernel.astype(np.float32)[:, :, None, None]
    channels = images.shape[-1]
    blurred = ops.depthwise_conv(
        images, np.tile(kernel, (1, 1, channels, 1)), padding="same"
    )
    ones = np.ones((1,) + images.shape[1:3] + (1,), dtype=np.float32)
    weights = ops.depthwise_conv(ones, kernel, padding="same")
    return np.asarray(ops.convert_to_numpy(blurred / weights), dtype=np.float32)


def _baseline_images(images, baseline, blur_sigma, blur_kernel_size, batch_size=64):
    if isinstance(baseline, str):
        if baseline == "zeros":
            return np.zeros_like(images)
        if baseline == "mean":
            mean = images.mean(axis=(1, 2), keepdims=True, dtype=np.float64)
            return np.broadcast_to(mean, images.shape).astype(np.float32)
        if baseline == "blur":
            return np.concatenate(
                [
                    _gaussian_blur(
                        images[i : i + batch_size], blur_sigma, blur_kernel_size
                    )
                    for i in range(0, len(images), batch_size)
                ]
            )
        raise ValueError(
            f"`baseline` must be one of {BASELINES} or an array that broadcasts "
            f"to the images. Received: baseline={baseline!r}"
        )
    try:
        array = np.asarray(baseline, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`baseline` must be one of {BASELINES} or a numeric array. "
            f"Received: baseline={baseline!r}"
        ) from error
    try:
        array = np.broadcast_to(array, images.shape)
    except ValueError as error:
        raise ValueError(
            f"`baseline` must broadcast to the images' shape {images.shape}. "
            f"Received: baseline with shape {array.shape}"
        ) from error
    if not np.all(np.isfinite(array)):
        raise ValueError("`baseline` must contain only finite values.")
    return array


def _pixel_ranks(maps):
    """Rank of each pixel in the deletion/insertion order, (B, H, W) int64.

    Rank 0 is the highest map value; equal values are ranked in raster order.
    """
    batch_size, height, width = maps.shape
    flat = maps.reshape(batch_size, height * width)
    order = np.argsort(-flat, axis=1, kind="stable")
    ranks = np.empty_like(order)
    ranks[np.arange(batch_size)[:, None], order] = np.arange(height * width)
    return ranks.reshape(batch_size, height, width)


def _perturbation_curves(
    mode,
    predict_fn,
    images,
    maps,
    class_index,
    steps,
    baseline,
    batch_size,
    blur_sigma,
    blur_kernel_size,
):
    _checks.check_predict_fn(predict_fn)
    maps = _checks.check_maps(maps)
    images = _checks.check_images(images, maps.shape)
    batch, height, width = maps.shape
    pixels = height * width
    _checks.check_class_index(class_index, batch)
    steps = _checks.check_int(steps, "steps", minimum=1, maximum=pixels)
    batch_size = _checks.check_int(batch_size, "batch_size", minimum=1)
    blur_sigma = _checks.check_number(blur_sigma, "blur_sigma")
    if blur_sigma <= 0:
        raise ValueError(
            f"`blur_sigma` must be positive. Received: blur_sigma={blur_sigma}"
        )
    blur_kernel_size = _checks.check_int(
        blur_kernel_size, "blur_kernel_size", minimum=1
    )
    if blur_kernel_size % 2 == 0:
        raise ValueError(
            "`blur_kernel_size` must be odd. Received: "
            f"blur_kernel_size={blur_kernel_size}"
        )
    base = _baseline_images(images, baseline, blur_sigma, blur_kernel_size, batch_size)

    class_index, full_scores = _checks.target_classes(
        predict_fn, images, class_index, batch_size
    )
    ranks = _pixel_ranks(maps)
    counts = (np.arange(steps + 1) * pixels) // steps
    curves = np.empty((batch, steps + 1), dtype=np.float64)
    # The full image is step 0 of deletion and step `steps` of insertion.
    full_step = 0 if mode == "deletion" else steps
    curves[:, full_step] = full_scores
    other_steps = np.array([k for k in range(steps + 1) if k != full_step])
    pair_image = np.repeat(np.arange(batch), len(other_steps))
    pair_step = np.tile(other_steps, batch)
    for start in range(0, len(pair_image), batch_size):
        index = pair_image[start : start + batch_size]
        step = pair_step[start : start + batch_size]
        changed = (ranks[index] < counts[step][:, None, None])[..., None]
        if mode == "deletion":
            perturbed = np.where(changed, base[index], images[index])
        else:
            perturbed = np.where(changed, images[index], base[index])
        probabilities = _checks.check_probabilities(
            predict_fn(perturbed.astype(np.float32)), len(index)
        )
        curves[index, step] = probabilities[np.arange(len(index)), class_index[index]]
    fractions = counts / pixels
    auc = np.trapezoid(curves, fractions, axis=1)
    return PerturbationCurves(
        class_index=class_index, fractions=fractions, curves=curves, auc=auc
    )


@lficam_export("lficam_tf.metrics.deletion_auc")
def deletion_auc(
    predict_fn,
    images,
    maps,
    class_index=None,
    steps=100,
    baseline="zeros",
    batch_size=64,
    blur_sigma=5.0,
    blur_kernel_size=11,
):
    """Deletion curve and AUC (RISE): remove the most important pixels first.

    The pixels are ranked by the map (highest first, ties in raster order)
    and replaced by the baseline in `steps` equal chunks; p_k is the
    probability of the explained class after k chunks, at x_k = n_k / (H W),
    n_k = floor(k H W / steps), and
    AUC = sum_k (x_k - x_{k-1}) (p_{k-1} + p_k) / 2. **Lower is better.**
    Evaluates `predict_fn` on B * (steps + 1) images, `batch_size` at a time.
    See the module docstring for the baselines.

    Args:
        predict_fn: callable, images `(n, height, width, channels)` float32
            -> probabilities `(n, num_classes)` (numpy or tensor).
        images: float array `(batch_size, height, width, channels)`, raw RGB
            in 0..255.
        maps: float array `(batch_size, height, width)`; only the order of
            the values matters.
        class_index: None, int or int array `(batch_size,)`. Defaults to
            `None`: the class predicted on the full image.
        steps: int in [1, height * width]. Number of chunks; the curve has
            `steps + 1` points. Defaults to `100`.
        baseline: `"zeros"`, `"blur"`, `"mean"` or an array broadcastable to
            `images`: what deleted pixels become. Defaults to `"zeros"`
            (black), as in RISE.
        batch_size: int. Images per `predict_fn` call. Defaults to `64`.
        blur_sigma: float. Gaussian sigma of `"blur"`, in pixels. Defaults
            to `5.0`.
        blur_kernel_size: odd int. Kernel size of `"blur"`. Defaults to `11`.

    Returns:
        A `PerturbationCurves` with `curves` `(batch_size, steps + 1)`,
        `fractions` `(steps + 1,)` and `auc` `(batch_size,)`.

    Example:

    >>> import numpy as np
    >>> def predict_fn(x):  # p(class 0) = mean brightness
    ...     m = x.mean(axis=(1, 2, 3)) / 255.0
    ...     return np.stack([m, 1.0 - m], axis=-1)
    >>> images = np.zeros((1, 2, 2, 3)); images[0, 0, 0] = 255.0
    >>> maps = np.array([[[1.0, 0.0], [0.0, 0.0]]])  # points at the bright pixel
    >>> result = deletion_auc(predict_fn, images, maps, class_index=0, steps=4)
    >>> result.curves.tolist(), result.auc.tolist()
    ([[0.25, 0.0, 0.0, 0.0, 0.0]], [0.03125])

    Reference:
        - [Petsiuk et al., RISE, BMVC 2018](https://arxiv.org/abs/1806.07421)
    """
    return _perturbation_curves(
        "deletion",
        predict_fn,
        images,
        maps,
        class_index,
        steps,
        baseline,
        batch_size,
        blur_sigma,
        blur_kernel_size,
    )


@lficam_export("lficam_tf.metrics.insertion_auc")
def insertion_auc(
    predict_fn,
    images,
    maps,
    class_index=None,
    steps=100,
    baseline="blur",
    batch_size=64,
    blur_sigma=5.0,
    blur_kernel_size=11,
):
    """Insertion curve and AUC (RISE): restore the most important pixels first.

    Starting from the baseline image, the pixels of the image are copied in,
    ranked by the map (highest first, ties in raster order), in `steps` equal
    chunks; p_k is the probability of the explained class after k chunks, at
    x_k = n_k / (H W), n_k = floor(k H W / steps), and
    AUC = sum_k (x_k - x_{k-1}) (p_{k-1} + p_k) / 2. **Higher is better.**
    Evaluates `predict_fn` on B * (steps + 1) images, `batch_size` at a time.
    See the module docstring for the baselines.

    Args:
        predict_fn: callable, images `(n, height, width, channels)` float32
            -> probabilities `(n, num_classes)` (numpy or tensor).
        images: float array `(batch_size, height, width, channels)`, raw RGB
            in 0..255.
        maps: float array `(batch_size, height, width)`; only the order of
            the values matters.
        class_index: None, int or int array `(batch_size,)`. Defaults to
            `None`: the class predicted on the full image.
        steps: int in [1, height * width]. Number of chunks; the curve has
            `steps + 1` points. Defaults to `100`.
        baseline: `"zeros"`, `"blur"`, `"mean"` or an array broadcastable to
            `images`: the starting image. Defaults to `"blur"`, as in RISE.
        batch_size: int. Images per `predict_fn` call. Defaults to `64`.
        blur_sigma: float. Gaussian sigma of `"blur"`, in pixels. Defaults
            to `5.0`.
        blur_kernel_size: odd int. Kernel size of `"blur"`. Defaults to `11`.

    Returns:
        A `PerturbationCurves` with `curves` `(batch_size, steps + 1)`,
        `fractions` `(steps + 1,)` and `auc` `(batch_size,)`.

    Example:

    >>> import numpy as np
    >>> def predict_fn(x):
    ...     m = x.mean(axis=(1, 2, 3)) / 255.0
    ...     return np.stack([m, 1.0 - m], axis=-1)
    >>> images = np.zeros((1, 2, 2, 3)); images[0, 0, 0] = 255.0
    >>> maps = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    >>> result = insertion_auc(
    ...     predict_fn, images, maps, class_index=0, steps=4, baseline="zeros")
    >>> result.curves.tolist(), result.auc.tolist()
    ([[0.0, 0.25, 0.25, 0.25, 0.25]], [0.21875])

    Reference:
        - [Petsiuk et al., RISE, BMVC 2018](https://arxiv.org/abs/1806.07421)
    """
    return _perturbation_curves(
        "insertion",
        predict_fn,
        images,
        maps,
        class_index,
        steps,
        baseline,
        batch_size,
        blur_sigma,
        blur_kernel_size,
    )
