"""Showing maps: colour overlays on the images, and a grid figure.

Figures are `matplotlib.figure.Figure` objects made without `pyplot`, so no
interactive backend is ever selected (they render with Agg when saved) and
nothing is left open in pyplot's figure manager. In a notebook, a returned
figure displays itself.
"""

import matplotlib
import matplotlib.image
import numpy as np
from matplotlib.figure import Figure

from lficam_tf.api_export import lficam_export


def _check_alpha(alpha):
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, (int, float))
        or not 0 <= alpha <= 1
    ):
        raise ValueError(
            f"`alpha` must be a number in [0, 1]. Received: alpha={alpha!r}"
        )


def _colormap(colormap):
    try:
        return matplotlib.colormaps[colormap]
    except KeyError:
        raise ValueError(
            "`colormap` must be a matplotlib colormap name, e.g. 'jet', "
            f"'inferno', 'viridis'. Received: colormap={colormap!r}"
        ) from None


@lficam_export("lficam_tf.explain.overlay")
def overlay(images, maps, alpha=0.5, colormap="jet"):
    """Blend colour-mapped saliency maps onto images.

    out = (1 - alpha) * image + alpha * 255 * colormap(map), as uint8.

    Args:
        images: RGB in 0..255, `(height, width, 3)` or `(batch_size, height,
            width, 3)`.
        maps: values in [0, 1] of the matching shape `(height, width)` or
            `(batch_size, height, width)` (what `explain(...).maps` returns).
        alpha: float in [0, 1]. Weight of the heat map. Defaults to `0.5`.
        colormap: str. A matplotlib colormap. Defaults to `"jet"`.

    Returns:
        uint8 array of the shape of `images`.

    Example:

    >>> import numpy as np
    >>> out = overlay(np.zeros((4, 4, 3)), np.ones((4, 4)), alpha=1.0)
    >>> out.dtype.name, out[0, 0].tolist()   # jet's top colour, dark red
    ('uint8', [128, 0, 0])
    """
    _check_alpha(alpha)
    cmap = _colormap(colormap)
    images = np.asarray(images, "float32")
    maps = np.asarray(maps, "float32")
    if images.shape[-1:] != (3,) or maps.shape != images.shape[:-1]:
        raise ValueError(
            "`maps` must have the shape of `images` without its channel axis "
            "(maps at the input resolution, as explain() returns them). "
            f"Received: images.shape={images.shape}, maps.shape={maps.shape}"
        )
    heat = cmap(np.clip(maps, 0.0, 1.0))[..., :3] * 255.0
    blended = (1.0 - alpha) * images + alpha * heat
    return np.clip(np.round(blended), 0, 255).astype("uint8")


@lficam_export("lficam_tf.explain.save_overlay")
def save_overlay(path, image, map_, alpha=0.5, colormap="jet"):
    """Write one image with its map overlaid as a PNG at the image's size.

    Args:
        path: str or path-like, ending in `.png`.
        image: RGB in 0..255, `(height, width, 3)`.
        map_: `(height, width)` in [0, 1].
        alpha: see `overlay`.
        colormap: see `overlay`.
    """
    matplotlib.image.imsave(path, overlay(image, map_, alpha, colormap), format="png")


@lficam_export("lficam_tf.explain.plot_explanations")
def plot_explanations(
    images,
    maps,
    titles=None,
    row_labels=None,
    alpha=0.5,
    colormap="jet",
    cell_size=2.0,
):
    """A grid figure: one row per image, the image then one column per method.

    Args:
        images: RGB in 0..255, `(num_images, height, width, 3)`.
        maps: a dict `{column title: maps (num_images, height, width)}`, e.g.
            `{"LFI-CAM": lficam.maps, "Grad-CAM": gradcam.maps}`, or one
            array of maps for a single column titled "map".
        titles: None or a list of `num_images` strings written above each
            row's image, e.g. "pred: cat (0.93) / true: dog". Defaults to
            `None`.
        row_labels: None or a list of `num_images` strings on the left.
        alpha: see `overlay`.
        colormap: see `overlay`.
        cell_size: float. Inches per cell. Defaults to `2.0`.

    Returns:
        A `matplotlib.figure.Figure`; save it with `fig.savefig(path)`.

    Example:

    >>> import numpy as np
    >>> fig = plot_explanations(np.zeros((2, 8, 8, 3)),
    ...     {"LFI-CAM": np.random.rand(2, 8, 8), "Grad-CAM": np.random.rand(2, 8, 8)},
    ...     titles=["pred: 1", "pred: 0"])
    >>> len(fig.axes)
    6
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            "`images` must be a batch (num_images, height, width, 3). "
            f"Received: images.shape={images.shape}"
        )
    if not isinstance(maps, dict):
        maps = {"map": maps}
    count = len(images)
    for label, values in (("titles", titles), ("row_labels", row_labels)):
        if values is not None and len(values) != count:
            raise ValueError(
                f"`{label}` must have one entry per image ({count}). "
                f"Received: {len(values)} entries"
            )
    columns = 1 + len(maps)
    figure = Figure(
        figsize=(cell_size * columns, cell_size * count + 0.4), layout="constrained"
    )
    axes = np.asarray(figure.subplots(count, columns, squeeze=False))
    for row in range(count):
        image = images[row]
        axes[row, 0].imshow(np.clip(image, 0, 255).astype("uint8"))
        if titles is not None:
            axes[row, 0].set_title(titles[row], fontsize=8)
        if row_labels is not None:
            axes[row, 0].set_ylabel(row_labels[row], fontsize=8)
        for column, (name, values) in enumerate(maps.items(), start=1):
            axes[row, column].imshow(overlay(image, values[row], alpha, colormap))
            if row == 0:
                axes[row, column].set_title(name, fontsize=9)
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    return figure
