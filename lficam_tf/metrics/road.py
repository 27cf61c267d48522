"""ROAD: Remove And Debias (Rong et al., ICML 2022).

Deletion / insertion (RISE) replace pixels by black or blurred values, and
the shape of the removed region then leaks into the image: a classifier can
recognise the mask itself, so that scores measure the mask, not the map.
ROAD removes pixels the same way but fills them by **noisy linear
imputation**, which leaves almost no trace of the mask's shape:

- each removed pixel i takes the weighted mean of its 8 neighbours j that
  lie inside the image, x_i = sum_j w_ij x_j / sum_j w_ij, with w = 1/6 for
  the 4 direct neighbours and 1/12 for the 4 diagonal ones; neighbours that
  are removed too are unknowns of the same sparse linear system (one per
  image and mask, solved for all channels at once); then
- Gaussian noise N(0, noise^2) is added to the imputed pixels.

The pixels of image i are ranked by its map (highest first, ties in raster
order, as in `deletion_auc`). For each percentage p, the n_p =
floor(p * H * W / 100) pixels ranked first (**MoRF**, most relevant first)
or last (**LeRF**, least relevant first) are removed, and the score is the
probability of the explained class on the imputed image:

- ROAD MoRF = mean_p p(c | MoRF image at p). **Lower is better.**
- ROAD LeRF = mean_p p(c | LeRF image at p). **Higher is better.**
- ROAD combined = (LeRF - MoRF) / 2 (pytorch-grad-cam's `ROADCombined`,
  which subtracts the full image's score from both; it cancels).
  **Higher is better.**

Images are raw RGB in 0..255, so `noise` is in those units: its default,
2.55, is 1 % of the range (ROAD's code uses 0.01 on normalised images).
"""

import dataclasses

import numpy as np

from lficam_tf.api_export import lficam_export
from lficam_tf.metrics import _checks
from lficam_tf.metrics.deletion_insertion import _pixel_ranks

#: ROAD's percentages of removed pixels (the paper's and pytorch-grad-cam's).
PERCENTAGES = (10, 20, 30, 40, 50, 60, 70, 80, 90)

#: (row offset, column offset, weight) of the 8 neighbours in the imputation.
NEIGHBOURS = tuple(
    (dy, dx, 1 / 6 if dy == 0 or dx == 0 else 1 / 12)
    for dy in (-1, 0, 1)
    for dx in (-1, 0, 1)
    if (dy, dx) != (0, 0)
)


@lficam_export("lficam_tf.metrics.noisy_linear_imputation")
def noisy_linear_imputation(image, removed, noise=2.55, seed=None):
    """ROAD's imputation: removed pixels from their neighbours, plus noise.

    Solves x_i = sum_j w_ij x_j / sum_j w_ij for every removed pixel i (j its
    8 neighbours inside the image, w = 1/6 direct, 1/12 diagonal; removed
    neighbours are unknowns too), for all channels at once, then adds
    N(0, noise^2) to each imputed value. Pixels not removed are unchanged.

    Args:
        image: float array `(height, width, channels)`.
        removed: bool array `(height, width)`; at least one pixel must be kept.
        noise: float >= 0. The noise's standard deviation, in the image's
            units. Defaults to `2.55` (1 % of 0..255).
        seed: None, int or `np.random.Generator` for the noise. Defaults to
            `None`.

    Returns:
        float64 array `(height, width, channels)`.

    Example:

    >>> import numpy as np
    >>> ramp = np.tile(np.arange(5.0)[None, :, None], (5, 1, 3))  # x = column
    >>> hole = np.zeros((5, 5), bool); hole[1:4, 1:4] = True
    >>> filled = noisy_linear_imputation(ramp, hole, noise=0.0)
    >>> np.allclose(filled, ramp)  # a linear image is restored exactly
    True

    Reference:
        - [Rong et al., ROAD, ICML 2022](https://arxiv.org/abs/2202.00449)
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    image = np.asarray(image, np.float64)
    removed = np.asarray(removed, bool)
    height, width, channels = image.shape
    if removed.all():
        raise ValueError(
            "`removed` must keep at least one pixel: with every pixel removed, "
            "nothing is left to impute from. Received: all "
            f"{height * width} pixels removed"
        )
    unknown = np.flatnonzero(removed)
    if not len(unknown):
        return image.copy()
    variable = np.full(height * width, -1)
    variable[unknown] = np.arange(len(unknown))
    flat = image.reshape(height * width, channels)
    rows, cols = np.divmod(unknown, width)
    diagonal = np.zeros(len(unknown))
    right = np.zeros((len(unknown), channels))
    entries_i, entries_j, entries_w = [], [], []
    for dy, dx, weight in NEIGHBOURS:
        r, c = rows + dy, cols + dx
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        neighbour = r * width + c
        diagonal[inside] += weight
        known = inside & ~removed.reshape(-1)[np.where(inside, neighbour, 0)]
        right[known] += weight * flat[neighbour[known]]
        free = inside & ~known
        entries_i.append(np.flatnonzero(free))
        entries_j.append(variable[neighbour[free]])
        entries_w.append(np.full(int(free.sum()), -weight))
    n = len(unknown)
    system = coo_matrix(
        (
            np.concatenate(entries_w + [diagonal]),
            (
                np.concatenate(entries_i + [np.arange(n)]),
                np.concatenate(entries_j + [np.arange(n)]),
            ),
        ),
        shape=(n, n),
    ).tocsc()
    solution = np.asarray(spsolve(system, right)).reshape(n, channels)
    if noise:
        solution = solution + np.random.default_rng(seed).normal(
            0.0, noise, solution.shape
        )
    out = flat.copy()
    out[unknown] = solution
    return out.reshape(height, width, channels)


@lficam_export("lficam_tf.metrics.ROADScores")
@dataclasses.dataclass(frozen=True)
class ROADScores:
    """ROAD's scores of a batch of maps.

    Attributes:
        class_index: int array `(batch_size,)`, the class c scored.
        percentages: float array `(P,)`, percentages of removed pixels.
        full: float array `(batch_size,)`, p(c) on the full image.
        morf: float array `(batch_size, P)`, p(c) with the most relevant
            pixels imputed (lower is better).
        lerf: float array `(batch_size, P)`, p(c) with the least relevant
            pixels imputed (higher is better).
    """

    class_index: np.ndarray
    percentages: np.ndarray
    full: np.ndarray
    morf: np.ndarray
    lerf: np.ndarray

    @property
    def morf_mean(self):
        """float: ROAD MoRF, the mean of `morf` (lower is better)."""
        return float(np.mean(self.morf))

    @property
    def lerf_mean(self):
        """float: ROAD LeRF, the mean of `lerf` (higher is better)."""
        return float(np.mean(self.lerf))

    @property
    def combined(self):
        """float: (LeRF - MoRF) / 2 (higher is better)."""
        return (self.lerf_mean - self.morf_mean) / 2.0


@lficam_export("lficam_tf.metrics.road")
def road(
    predict_fn,
    images,
    maps,
    class_index=None,
    percentages=PERCENTAGES,
    noise=2.55,
    seed=0,
    batch_size=64,
):
    """ROAD MoRF / LeRF: class probability after noisy linear imputation.

    For each image and percentage p, the floor(p H W / 100) pixels ranked
    first by the map (MoRF) or last (LeRF) are removed and filled by
    `noisy_linear_imputation`; the score is p(c) on that image. ROAD MoRF =
    mean p(c) over the MoRF images (**lower is better**), ROAD LeRF over the
    LeRF images (**higher is better**), combined = (LeRF - MoRF) / 2
    (**higher is better**). Evaluates `predict_fn` on B * (2 P + 1) images.
    See the module docstring.

    Args:
        predict_fn: callable, images `(n, height, width, channels)` float32
            -> probabilities `(n, num_classes)`.
        images: float array `(batch_size, height, width, channels)`, raw RGB
            in 0..255.
        maps: float array `(batch_size, height, width)`; only the order of
            the values matters.
        class_index: None, int or int array `(batch_size,)`. Defaults to
            `None`: the class predicted on the full image.
        percentages: numbers in (0, 100). Defaults to `PERCENTAGES`, 10 to 90
            in steps of 10.
        noise: float >= 0. Standard deviation of the imputation noise, in
            pixel units. Defaults to `2.55`.
        seed: int or None. Seed of the noise (one generator for the whole
            call). Defaults to `0`.
        batch_size: int. Images per `predict_fn` call. Defaults to `64`.

    Returns:
        A `ROADScores`: `.morf` and `.lerf` `(batch_size, P)`, `.morf_mean`,
        `.lerf_mean`, `.combined`.

    Example:

    >>> import numpy as np
    >>> def predict_fn(x):  # p(class 0) = brightness of the left half
    ...     m = np.clip(x[:, :, :2].mean(axis=(1, 2, 3)) / 255.0, 0, 1)
    ...     return np.stack([m, 1.0 - m], axis=-1)
    >>> images = np.zeros((1, 4, 4, 3)); images[0, :, :2] = 255.0
    >>> left = np.zeros((1, 4, 4)); left[0, :, :2] = 1.0  # points at the evidence
    >>> scores = road(predict_fn, images, left, class_index=0, noise=0.0)
    >>> scores.morf_mean < scores.lerf_mean
    True

    Reference:
        - [Rong et al., ROAD, ICML 2022](https://arxiv.org/abs/2202.00449)
    """
    _checks.check_predict_fn(predict_fn)
    maps = _checks.check_maps(maps)
    images = _checks.check_images(images, maps.shape)
    batch, height, width = maps.shape
    batch_size = _checks.check_int(batch_size, "batch_size", minimum=1)
    noise = _checks.check_number(noise, "noise")
    if noise < 0:
        raise ValueError(f"`noise` must be >= 0. Received: noise={noise}")
    percentages = np.asarray(percentages, np.float64).reshape(-1)
    if not len(percentages) or percentages.min() <= 0 or percentages.max() >= 100:
        raise ValueError(
            "`percentages` must be numbers strictly between 0 and 100 (the "
            "share of pixels removed; 100 would leave nothing to impute "
            f"from). Received: percentages={percentages.tolist()}"
        )
    class_index, full = _checks.target_classes(
        predict_fn, images, class_index, batch_size
    )
    pixels = height * width
    counts = np.floor(percentages * pixels / 100.0).astype(np.int64)
    ranks = _pixel_ranks(maps)
    rng = np.random.default_rng(seed)
    perturbed = []
    for i in range(batch):
        for order in ("morf", "lerf"):
            for n in counts:
                if order == "morf":
                    removed = ranks[i] < n
                else:
                    removed = ranks[i] >= pixels - n
                perturbed.append(
                    noisy_linear_imputation(images[i], removed, noise, rng)
                )
    probabilities = _checks.predict(
        predict_fn, np.asarray(perturbed, np.float32), batch_size
    )
    per_image = 2 * len(counts)
    scores = probabilities[
        np.arange(batch * per_image), np.repeat(class_index, per_image)
    ].reshape(batch, 2, len(counts))
    return ROADScores(
        class_index=class_index,
        percentages=percentages,
        full=full,
        morf=scores[:, 0],
        lerf=scores[:, 1],
    )
