"""Overlays (blend formula by hand) and the grid figure."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from lficam_tf.explain import overlay, plot_explanations, save_overlay


def test_overlay_blends_by_the_formula():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (2, 5, 6, 3))
    maps = rng.uniform(0, 1, (2, 5, 6))
    out = overlay(images, maps, alpha=0.3, colormap="gray")  # gray(v) = (v, v, v)
    expected = np.round(0.7 * images + 0.3 * 255 * maps[..., None])
    assert out.dtype == np.uint8 and out.shape == images.shape
    np.testing.assert_allclose(out, expected, atol=1)  # gray is a 256-entry table
    np.testing.assert_array_equal(
        overlay(images[0], maps[0], alpha=0.0), np.round(images[0])
    )


def test_overlay_errors():
    with pytest.raises(ValueError, match=r"`alpha` must be a number in \[0, 1\]"):
        overlay(np.zeros((2, 2, 3)), np.zeros((2, 2)), alpha=1.5)
    with pytest.raises(
        ValueError, match="`colormap` must be a matplotlib colormap name"
    ):
        overlay(np.zeros((2, 2, 3)), np.zeros((2, 2)), colormap="nope")
    with pytest.raises(ValueError, match="`maps` must have the shape of `images`"):
        overlay(np.zeros((2, 2, 3)), np.zeros((3, 3)))


def test_save_overlay_writes_a_png_of_the_image_size(tmp_path):
    save_overlay(tmp_path / "a.png", np.zeros((7, 9, 3)), np.ones((7, 9)))
    assert matplotlib.image.imread(tmp_path / "a.png").shape[:2] == (7, 9)


def test_grid_figure(tmp_path):
    maps = {"LFI-CAM": np.random.rand(3, 8, 8), "Grad-CAM": np.random.rand(3, 8, 8)}
    figure = plot_explanations(
        np.zeros((3, 8, 8, 3)), maps, titles=["pred: a / true: a", "b", "c"]
    )
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 3 * 3
    assert [figure.axes[i].get_title() for i in range(3)] == [
        "pred: a / true: a",
        "LFI-CAM",
        "Grad-CAM",
    ]
    figure.savefig(tmp_path / "grid.png")
    assert (tmp_path / "grid.png").stat().st_size > 0
    with pytest.raises(
        ValueError, match=r"`titles` must have one entry per image \(3\)"
    ):
        plot_explanations(np.zeros((3, 8, 8, 3)), maps, titles=["x"])
    with pytest.raises(ValueError, match="`images` must be a batch"):
        plot_explanations(np.zeros((8, 8, 3)), maps)
