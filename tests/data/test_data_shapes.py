"""The built-in "shapes" dataset: determinism, masks, classes, balance."""

import numpy as np
import pytest

from lficam_tf.data import SHAPES_CLASS_NAMES, generate_shapes


@pytest.fixture(scope="module")
def shapes64():
    return generate_shapes(512, image_size=64, seed=0)


def test_same_seed_same_arrays_and_prefix_stable():
    a = generate_shapes(300, image_size=32, seed=3)
    b = generate_shapes(300, image_size=32, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    # The first n images do not depend on how many are generated, also past
    # the first block of 256.
    c = generate_shapes(270, image_size=32, seed=3)
    for x, y in zip(a, c):
        np.testing.assert_array_equal(x[:270], y)


def test_other_seed_or_split_gives_other_images():
    images, _, _ = generate_shapes(20, image_size=32, seed=3)
    other_seed, _, _ = generate_shapes(20, image_size=32, seed=4)
    other_split, _, _ = generate_shapes(20, image_size=32, seed=3, split="test")
    for other in (other_seed, other_split):
        differing = np.mean(np.any(images != other, axis=(1, 2, 3)))
        assert differing == 1.0


def test_shapes_dtypes_and_sizes():
    images, labels, masks = generate_shapes(7, image_size=(40, 48), seed=1)
    assert images.shape == (7, 40, 48, 3) and images.dtype == np.uint8
    assert labels.shape == (7,) and labels.dtype == np.int32
    assert masks.shape == (7, 40, 48) and masks.dtype == bool
    assert set(labels.tolist()) <= set(range(len(SHAPES_CLASS_NAMES)))
    assert generate_shapes(0)[0].shape == (0, 64, 64, 3)


def test_labels_balanced(shapes64):
    counts = np.bincount(shapes64[1], minlength=len(SHAPES_CLASS_NAMES))
    assert counts.max() - counts.min() <= 1
    assert counts.sum() == 512


def test_mask_is_exactly_the_flat_object_colour(shapes64):
    images, _, masks = shapes64
    for image, mask in zip(images[:100], masks[:100]):
        colours = image[mask]
        # The object is drawn last, in one flat colour.
        assert (colours == colours[0]).all()
        # No pixel outside the mask has that exact colour (up to a rare
        # coincidence with the noisy background).
        same = np.all(image == colours[0], axis=-1)
        assert np.sum(same & ~mask) <= 0.02 * mask.sum()


def test_mask_fraction_in_range_and_object_inside_image(shapes64):
    _, _, masks = shapes64
    fraction = masks.mean(axis=(1, 2))
    assert fraction.min() > 0.02 and fraction.max() < 0.35
    assert 0.08 < fraction.mean() < 0.2
    # The whole object is inside the image: no mask pixel on the border.
    border = (
        masks[:, 0].any()
        | masks[:, -1].any()
        | masks[:, :, 0].any()
        | masks[:, :, -1].any()
    )
    assert not border


def test_masks_have_the_shape_of_their_class(shapes64):
    """Independent geometry: a ring has a hole at its centroid, the others are
    filled there; a circle fills its bounding circle, a triangle half of it."""
    _, labels, masks = shapes64
    fill = {name: [] for name in SHAPES_CLASS_NAMES}
    for label, mask in zip(labels, masks):
        ys, xs = np.nonzero(mask)
        cy, cx = ys.mean(), xs.mean()
        name = SHAPES_CLASS_NAMES[label]
        centre_filled = mask[int(round(cy - 0.5)), int(round(cx - 0.5))]
        assert centre_filled == (name != "ring"), name
        radius = np.sqrt(((ys + 0.5 - cy) ** 2 + (xs + 0.5 - cx) ** 2).max()) + 0.5
        fill[name].append(mask.sum() / (np.pi * radius**2))
    mean_fill = {name: np.mean(values) for name, values in fill.items()}
    assert mean_fill["circle"] > 0.8  # pi r^2 / pi r^2
    assert 0.55 < mean_fill["square"] < 0.72  # 2 / pi
    assert mean_fill["triangle"] < 0.5  # 3 sqrt(3) / (4 pi) = 0.41
    assert mean_fill["star"] < 0.55


def test_colour_alone_does_not_find_the_object(shapes64):
    """Distractors share the object's colour distribution: the most saturated
    pixel of an image is on the object only in a minority of images."""
    images, _, masks = shapes64
    rgb = images.astype(np.float32)
    saturation = rgb.max(-1) - rgb.min(-1)
    flat = saturation.reshape(len(images), -1).argmax(-1)
    on_object = masks.reshape(len(images), -1)[np.arange(len(images)), flat]
    assert on_object.mean() < 0.5


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_images": 2.0}, TypeError, r"`num_images` must be an int"),
        ({"num_images": -1}, ValueError, r"`num_images` must be at least 0"),
        (
            {"num_images": 2, "image_size": 8},
            ValueError,
            r"`image_size` must be at least 16x16: smaller generated shapes",
        ),
        (
            {"num_images": 2, "image_size": (32,)},
            TypeError,
            r"`image_size` must be an int or",
        ),
        ({"num_images": 2, "seed": -2}, ValueError, r"`seed` must be at least 0"),
        ({"num_images": 2, "seed": 1.0}, TypeError, r"`seed` must be an int"),
        ({"num_images": 2, "split": "val"}, ValueError, r"`split` must be one of"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        generate_shapes(**kwargs)
