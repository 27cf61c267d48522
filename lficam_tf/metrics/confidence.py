"""Average Drop % and Increase in Confidence % (Grad-CAM++, Score-CAM).

The explanation image of image i is E_i = X_i * M_i: the raw RGB image in
0..255 multiplied pixel-wise by its map M_i in [0, 1] (broadcast over the
channels), so a pixel with map 0 becomes black (0). Y_i is the softmax
probability of class c_i on X_i, O_i that of the *same* class c_i on E_i.
Over N images:

    Average Drop %            AD = 100 / N * sum_i max(0, Y_i - O_i) / Y_i
    Increase in Confidence %  IC = 100 / N * sum_i 1[Y_i < O_i]

Conventions, since implementations differ:

- The map multiplies the raw 0..255 image, not the normalised input: our
  models take raw RGB and normalise inside, so "masked out" means black, as
  in Grad-CAM++'s figures. (pytorch-grad-cam multiplies the normalised
  tensor, where 0 is the dataset's mean colour; its numbers differ.)
- O_i is the score of the class explained (c_i, by default the class
  predicted on the full image), not the class predicted on E_i.
- IC uses the strict inequality Y_i < O_i (Grad-CAM++ eq. 20): an unchanged
  score is not an increase.
- Scores are probabilities (softmax), as in Grad-CAM++ and Score-CAM, not
  logits (a drop relative to a logit can change sign).
- A term with Y_i = 0 is 0 (max(0, 0 - O_i) = 0; no 0 / 0, no NaN).

Per image, the functions return 100 * max(0, Y_i - O_i) / Y_i and
100 * 1[Y_i < O_i], so the paper's number is the mean of the returned array.
"""

import dataclasses

import numpy as np

from lficam_tf.api_export import lficam_export
from lficam_tf.metrics import _checks


@lficam_export("lficam_tf.metrics.ConfidenceChange")
@dataclasses.dataclass(frozen=True)
class ConfidenceChange:
    """Scores of the full and explanation images, and the two metrics.

    Attributes:
        class_index: int array `(batch_size,)`, the class c_i explained.
        full_scores: float array `(batch_size,)`, Y_i, probability of c_i on
            the image.
        explanation_scores: float array `(batch_size,)`, O_i, probability of
            c_i on image * map.
        drop: float array `(batch_size,)`, 100 * max(0, Y_i - O_i) / Y_i.
            Lower is better.
        increase: float array `(batch_size,)`, 100 * 1[Y_i < O_i] (0 or 100).
            Higher is better.
    """

    class_index: np.ndarray
    full_scores: np.ndarray
    explanation_scores: np.ndarray
    drop: np.ndarray
    increase: np.ndarray

    @property
    def average_drop(self):
        """Average Drop %, the mean of `drop`. Lower is better."""
        return float(np.mean(self.drop))

    @property
    def increase_in_confidence(self):
        """Increase in Confidence %, the mean of `increase`. Higher is better."""
        return float(np.mean(self.increase))


def _check_scores(full_scores, explanation_scores):
    full = np.asarray(full_scores, dtype=np.float64)
    explanation = np.asarray(explanation_scores, dtype=np.float64)
    if full.ndim != 1 or full.shape != explanation.shape:
        raise ValueError(
            "`full_scores` and `explanation_scores` must be 1-D arrays of the "
            f"same shape (batch_size,). Received: shapes {full.shape} and "
            f"{explanation.shape}"
        )
    for name, array in (("full_scores", full), ("explanation_scores", explanation)):
        if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1 + 1e-6:
            raise ValueError(
                f"`{name}` must be probabilities in [0, 1]. Received: {name} "
                f"with values in [{np.nanmin(array):g}, {np.nanmax(array):g}]"
            )
    return full, explanation


@lficam_export("lficam_tf.metrics.average_drop_from_scores")
def average_drop_from_scores(full_scores, explanation_scores):
    """Per-image drop in %, 100 * max(0, Y - O) / Y, from the two scores.

    Average Drop % (Chattopadhyay et al. 2018; Wang et al. 2020) is the mean
    of the result. Lower is better. A term with Y = 0 is 0.

    Args:
        full_scores: array `(batch_size,)`, Y: probability of the explained
            class on the full image.
        explanation_scores: array `(batch_size,)`, O: probability of the same
            class on image * map.

    Returns:
        float64 array `(batch_size,)` in [0, 100].

    Example:

    >>> average_drop_from_scores([0.5, 0.5, 0.0], [0.125, 0.6, 0.3]).tolist()
    [75.0, 0.0, 0.0]

    Reference:
        - [Chattopadhyay et al., Grad-CAM++, WACV 2018](https://arxiv.org/abs/1710.11063)
        - [Wang et al., Score-CAM, CVPR-W 2020](https://arxiv.org/abs/1910.01279)
    """
    full, explanation = _check_scores(full_scores, explanation_scores)
    positive = full > 0
    drop = np.maximum(0.0, full - explanation) / np.where(positive, full, 1.0)
    return 100.0 * np.where(positive, drop, 0.0)


@lficam_export("lficam_tf.metrics.increase_in_confidence_from_scores")
def increase_in_confidence_from_scores(full_scores, explanation_scores):
    """Per-image increase in %, 100 * 1[Y < O] (strict), from the two scores.

    Increase in Confidence % (Chattopadhyay et al. 2018; Wang et al. 2020) is
    the mean of the result. Higher is better.

    Args:
        full_scores: array `(batch_size,)`, Y: probability of the explained
            class on the full image.
        explanation_scores: array `(batch_size,)`, O: probability of the same
            class on image * map.

    Returns:
        float64 array `(batch_size,)` of 0.0 and 100.0.

    Example:

    >>> increase_in_confidence_from_scores([0.8, 0.5, 0.5], [0.2, 0.6, 0.5]).tolist()
    [0.0, 100.0, 0.0]

    Reference:
        - [Chattopadhyay et al., Grad-CAM++, WACV 2018](https://arxiv.org/abs/1710.11063)
        - [Wang et al., Score-CAM, CVPR-W 2020](https://arxiv.org/abs/1910.01279)
    """
    full, explanation = _check_scores(full_scores, explanation_scores)
    return np.where(full < explanation, 100.0, 0.0)


@lficam_export("lficam_tf.metrics.confidence_change")
def confidence_change(predict_fn, images, maps, class_index=None, batch_size=64):
    """Average Drop % and Increase in Confidence % of maps, in one pass each.

    Y_i = p(c_i | X_i) and O_i = p(c_i | X_i * M_i), with X_i the raw RGB
    image in 0..255 and M_i its map in [0, 1] (0 = black):

        AD = 100 / N * sum_i max(0, Y_i - O_i) / Y_i   (lower is better)
        IC = 100 / N * sum_i 1[Y_i < O_i]              (higher is better)

    See the module docstring for the conventions (raw image, same class,
    strict inequality, Y_i = 0).

    Args:
        predict_fn: callable, images `(n, height, width, channels)` float32
            -> probabilities `(n, num_classes)` (numpy or tensor).
        images: float array `(batch_size, height, width, channels)`, raw RGB
            in 0..255.
        maps: float array `(batch_size, height, width)` in [0, 1].
        class_index: None, int or int array `(batch_size,)`. The class
            explained per image. Defaults to `None`: the class predicted on
            the full image.
        batch_size: int. Images per `predict_fn` call. Defaults to `64`.

    Returns:
        A `ConfidenceChange` with per-image `drop` and `increase` and the
        aggregates `average_drop` and `increase_in_confidence`.

    Example:

    >>> import numpy as np
    >>> def predict_fn(x):  # p(class 0) = mean brightness
    ...     m = x.mean(axis=(1, 2, 3)) / 255.0
    ...     return np.stack([m, 1.0 - m], axis=-1)
    >>> images = np.full((1, 2, 2, 3), 255.0)
    >>> maps = np.array([[[1.0, 0.5], [0.0, 0.5]]])
    >>> result = confidence_change(predict_fn, images, maps, class_index=0)
    >>> result.average_drop, result.increase_in_confidence
    (50.0, 0.0)

    Reference:
        - [Chattopadhyay et al., Grad-CAM++, WACV 2018](https://arxiv.org/abs/1710.11063)
        - [Wang et al., Score-CAM, CVPR-W 2020](https://arxiv.org/abs/1910.01279)
    """
    _checks.check_predict_fn(predict_fn)
    maps = _checks.check_maps(maps, unit_interval=True)
    images = _checks.check_images(images, maps.shape)
    _checks.check_class_index(class_index, len(images))
    batch_size = _checks.check_int(batch_size, "batch_size", minimum=1)
    class_index, full = _checks.target_classes(
        predict_fn, images, class_index, batch_size
    )
    explanation_images = (images * maps[..., None]).astype(np.float32)
    probabilities = _checks.predict(predict_fn, explanation_images, batch_size)
    explanation = probabilities[np.arange(len(images)), class_index]
    return ConfidenceChange(
        class_index=class_index,
        full_scores=full,
        explanation_scores=explanation,
        drop=average_drop_from_scores(full, explanation),
        increase=increase_in_confidence_from_scores(full, explanation),
    )


@lficam_export("lficam_tf.metrics.average_drop")
def average_drop(predict_fn, images, maps, class_index=None, batch_size=64):
    """Per-image drop in %, whose mean is Average Drop %. Lower is better.

    AD = 100 / N * sum_i max(0, Y_i - O_i) / Y_i, with Y_i = p(c_i | X_i) and
    O_i = p(c_i | X_i * M_i) on the raw 0..255 image (module docstring).
    Calls `confidence_change`; use that to get both metrics from one pass.

    Args:
        predict_fn: callable, images -> probabilities `(n, num_classes)`.
        images: float array `(batch_size, height, width, channels)` in 0..255.
        maps: float array `(batch_size, height, width)` in [0, 1].
        class_index: None, int or int array `(batch_size,)`. Defaults to
            `None`: the class predicted on the full image.
        batch_size: int. Images per `predict_fn` call. Defaults to `64`.

    Returns:
        float64 array `(batch_size,)` in [0, 100]; `.mean()` is AD %.

    Example:

    >>> import numpy as np
    >>> def predict_fn(x):
    ...     m = x.mean(axis=(1, 2, 3)) / 255.0
    ...     return np.stack([m, 1.0 - m], axis=-1)
    >>> images = np.full((1, 2, 2, 3), 255.0)
    >>> average_drop(predict_fn, images, np.full((1, 2, 2), 0.25)).tolist()
    [75.0]

    Reference:
        - [Chattopadhyay et al., Grad-CAM++, WACV 2018](https://arxiv.org/abs/1710.11063)
        - [Wang et al., Score-CAM, CVPR-W 2020](https://arxiv.org/abs/1910.01279)
    """
    return confidence_change(
        predict_fn, images, maps, class_index=class_index, batch_size=batch_size
    ).drop


@lficam_export("lficam_tf.metrics.increase_in_confidence")
def increase_in_confidence(predict_fn, images, maps, class_index=None, batch_size=64):
    """Per-image 100 * 1[Y_i < O_i], whose mean is Increase in Confidence %.

    IC = 100 / N * sum_i 1[Y_i < O_i] (strict), with Y_i = p(c_i | X_i) and
    O_i = p(c_i | X_i * M_i) on the raw 0..255 image (module docstring).
    Higher is better. Calls `confidence_change`; use that to get both metrics
    from one pass.

    Args:
        predict_fn: callable, images -> probabilities `(n, num_classes)`.
        images: float array `(batch_size, height, width, channels)` in 0..255.
        maps: float array `(batch_size, height, width)` in [0, 1].
        class_index: None, int or int array `(batch_size,)`. Defaults to
            `None`: the class predicted on the full image.
        batch_size: int. Images per `predict_fn` call. Defaults to `64`.

    Returns:
        float64 array `(batch_size,)` of 0.0 and 100.0; `.mean()` is IC %.

    Example:

    >>> import numpy as np
    >>> def predict_fn(x):
    ...     m = x.mean(axis=(1, 2, 3)) / 255.0
    ...     return np.stack([m, 1.0 - m], axis=-1)
    >>> images = np.full((1, 2, 2, 3), 255.0)
    >>> maps = np.full((1, 2, 2), 0.25)
    >>> increase_in_confidence(predict_fn, images, maps, class_index=1).tolist()
    [100.0]

    Reference:
        - [Chattopadhyay et al., Grad-CAM++, WACV 2018](https://arxiv.org/abs/1710.11063)
        - [Wang et al., Score-CAM, CVPR-W 2020](https://arxiv.org/abs/1910.01279)
    """
    return confidence_change(
        predict_fn, images, maps, class_index=class_index, batch_size=batch_size
    ).increase
