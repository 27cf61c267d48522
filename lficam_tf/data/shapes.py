"""The built-in "shapes" dataset: one shape per image decides the class.

Generated in code (vectorised numpy, no download) and deterministic by seed.
Each image has a cluttered background (a colour gradient, a sinusoidal
texture, pixel noise) with distractors that are *not* class shapes (thin
lines, small dots, elongated blobs), and one object on top whose shape is the
class. Object and distractors draw their colours from the same distribution,
so colour alone does not find the object; its shape does. The object's
ground-truth mask is returned for evaluating attention maps (e.g. the
energy-based pointing game).
"""

import numpy as np

from lficam_tf.api_export import lficam_export
from lficam_tf.checks import check_image_size, check_int

#: Class names of the shapes dataset, in label order.
SHAPES_CLASS_NAMES = ("circle", "square", "triangle", "cross", "star", "ring")

#: Default generated image size.
SHAPES_IMAGE_SIZE = (64, 64)

# Images are generated in blocks, each from its own seed stream, so the first
# n images do not depend on how many are generated in total.
_BLOCK = 256
_SPLITS = {"train": 0, "validation": 1, "test": 2}

# Object scale: the shape's radius as a fraction of the shorter image side.
_RADIUS = (0.21, 0.31)
# Every shape fits in a circle of this many radii (star tips, square corners).
_EXTENT = 1.16
_NUM_LINES, _NUM_DOTS, _NUM_BLOBS = 3, 5, 2


#: The generated images' smallest side: stricter than the models' own
#: `lficam_tf.checks.MIN_IMAGE_SIZE`, because an object of radius 0.21 of the
#: side (with its distractors) needs this many pixels to stay recognisable.
SHAPES_MIN_IMAGE_SIZE = 16


def _image_size(image_size):
    return check_image_size(
        image_size,
        minimum=SHAPES_MIN_IMAGE_SIZE,
        reason="smaller generated shapes are no longer recognisable",
    )


def _random_colours(rng, shape, reference, candidates=4):
    """Saturated colours, each the farthest of `candidates` from `reference`.

    `reference` is the background's mean colour per image (batch, 3), so that
    objects and distractors both stand out from the background alike.
    """
    hue = rng.uniform(0.0, 6.0, shape + (candidates,))
    sat = rng.uniform(0.5, 1.0, shape + (candidates,))
    val = rng.uniform(0.45, 1.0, shape + (candidates,))
    # HSV -> RGB, vectorised: each channel is val * (1 - sat * k(hue)).
    offsets = np.array([5.0, 3.0, 1.0])
    k = (offsets + hue[..., None]) % 6.0
    k = np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    rgb = 255.0 * val[..., None] * (1.0 - sat[..., None] * k)
    ref = reference.reshape(reference.shape[:1] + (1,) * (len(shape)) + (3,))
    distance = np.sum((rgb - ref) ** 2, axis=-1)
    best = np.argmax(distance, axis=-1)
    return np.take_along_axis(rgb, best[..., None, None], axis=-2)[..., 0, :]


def _background(rng, b, yy, xx, height, width):
    """Gradient + sinusoidal texture + noise, shape (b, height, width, 3)."""
    grey = rng.uniform(60.0, 200.0, (b, 2, 1))
    tint = rng.uniform(-45.0, 45.0, (b, 2, 3))
    ends = (grey + tint).astype(np.float32)  # two low-saturation end colours
    angle = rng.uniform(0.0, 2 * np.pi, (b, 1, 1)).astype(np.float32)
    t = xx * (np.cos(angle) / width) + yy * (np.sin(angle) / height)
    low = t.min(axis=(1, 2), keepdims=True)
    t = (t - low) / (t.max(axis=(1, 2), keepdims=True) - low + 1e-6)
    freq = rng.uniform(0.04, 0.25, (b, 1, 1)).astype(np.float32)
    direction = rng.uniform(0.0, np.pi, (b, 1, 1)).astype(np.float32)
    phase = rng.uniform(0.0, 2 * np.pi, (b, 1, 1)).astype(np.float32)
    wave = np.sin(
        (2 * np.pi * freq) * (xx * np.cos(direction) + yy * np.sin(direction)) + phase
    )
    amplitude = rng.uniform(5.0, 18.0, (b, 1, 1, 3)).astype(np.float32)
    # Uniform pixel noise in [-noise, noise].
    noise = rng.uniform(3.0, 14.0, (b, 1, 1, 1)).astype(np.float32)
    image = rng.random((b, height, width, 3), dtype=np.float32)
    image *= 2 * noise
    image -= noise
    image += ends[:, None, None, 0]
    image += t[..., None] * (ends[:, 1] - ends[:, 0])[:, None, None]
    image += amplitude * wave[..., None]
    return image, ends.mean(axis=1)


def _segment_distance2(yy, xx, y0, x0, y1, x1):
    """Squared distance of every pixel to segments; endpoints (b, n, 1, 1)."""
    dy, dx = y1 - y0, x1 - x0
    py, px = yy - y0, xx - x0
    t = py * (dy / (dy * dy + dx * dx + 1e-6)) + px * (dx / (dy * dy + dx * dx + 1e-6))
    np.clip(t, 0.0, 1.0, out=t)
    return (py - t * dy) ** 2 + (px - t * dx) ** 2


def _distractors(rng, b, yy, xx, height, width, reference):
    """Boolean layers (b, n, height, width) and their colours (b, n, 3)."""
    side = min(height, width)
    # Thin lines across the image.
    f32 = np.float32
    ends = rng.uniform(0.0, 1.0, (4, b, _NUM_LINES, 1, 1)).astype(f32)
    y0, y1 = ends[0] * height, ends[2] * height
    x0, x1 = ends[1] * width, ends[3] * width
    half_width = rng.uniform(0.5, 1.1, (b, _NUM_LINES, 1, 1)).astype(f32)
    lines = _segment_distance2(yy, xx, y0, x0, y1, x1) <= half_width**2
    lines &= rng.uniform(size=(b, _NUM_LINES, 1, 1)) < 0.8
    # Small dots.
    cy = rng.uniform(0.0, height, (b, _NUM_DOTS, 1, 1)).astype(f32)
    cx = rng.uniform(0.0, width, (b, _NUM_DOTS, 1, 1)).astype(f32)
    radius = rng.uniform(1.0, 2.3, (b, _NUM_DOTS, 1, 1)).astype(f32)
    dots = (yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2
    # Elongated blobs (axis ratio at most 0.35: never a circle or a square).
    cy = rng.uniform(0.0, height, (b, _NUM_BLOBS, 1, 1)).astype(f32)
    cx = rng.uniform(0.0, width, (b, _NUM_BLOBS, 1, 1)).astype(f32)
    major = rng.uniform(0.06, 0.13, (b, _NUM_BLOBS, 1, 1)).astype(f32) * side
    minor = major * rng.uniform(0.15, 0.35, (b, _NUM_BLOBS, 1, 1)).astype(f32)
    angle = rng.uniform(0.0, np.pi, (b, _NUM_BLOBS, 1, 1)).astype(f32)
    u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    v = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
    blobs = (u / major) ** 2 + (v / minor) ** 2 <= 1.0
    layers = np.concatenate([lines, dots, blobs], axis=1)
    colours = _random_colours(rng, (b, layers.shape[1]), reference)
    return layers, colours


def _regular_polygon(rho, phi, sides, circumradius):
    sector = 2 * np.pi / sides
    t = np.mod(phi, sector) - sector / 2
    return rho * np.cos(t) <= circumradius * np.cos(sector / 2)


def _star(rho, phi, points, outer, inner):
    # Polar equation of the edge from the tip (outer, 0) to the notch
    # (inner, pi / points), with the angle folded into [0, pi / points].
    half = np.pi / points
    t = np.mod(phi, 2 * half)
    t = np.minimum(t, 2 * half - t)
    edge = outer * inner * np.sin(half) / (outer * np.sin(t) + inner * np.sin(half - t))
    return rho <= edge


def _object_masks(labels, u, v):
    """Masks (b, height, width) of each image's shape in unit coordinates."""

    def circle(u, v):
        return u * u + v * v <= 1.0

    def square(u, v):
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8

    def triangle(u, v):
        return _regular_polygon(np.hypot(u, v), np.arctan2(v, u), 3, 1.12)

    def cross(u, v):
        au, av = np.abs(u), np.abs(v)
        return ((au <= 0.3) & (av <= 1.05)) | ((av <= 0.3) & (au <= 1.05))

    def star(u, v):
        return _star(np.hypot(u, v), np.arctan2(v, u), 5, 1.16, 0.42)

    def ring(u, v):
        rho2 = u * u + v * v
        return (rho2 <= 1.0) & (rho2 >= 0.36)

    # In label order (SHAPES_CLASS_NAMES); each evaluated on its images only.
    shapes = [circle, square, triangle, cross, star, ring]
    masks = np.zeros(u.shape, bool)
    for label, shape in enumerate(shapes):
        chosen = labels == label
        masks[chosen] = shape(u[chosen], v[chosen])
    return masks


def _block(seed, split, index, b, height, width):
    rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(_SPLITS[split], index))
    )
    yy = (np.arange(height, dtype=np.float32) + 0.5)[None, None, :, None]
    xx = (np.arange(width, dtype=np.float32) + 0.5)[None, None, None, :]
    num_classes = len(SHAPES_CLASS_NAMES)
    labels = rng.permutation((np.arange(b) + index * _BLOCK) % num_classes)

    image, reference = _background(rng, b, yy[0], xx[0], height, width)
    layers, colours = _distractors(rng, b, yy, xx, height, width, reference)
    # Paint the distractors in order: the index of the top layer per pixel.
    top = np.zeros((b, height, width), np.intp)
    for k in range(layers.shape[1]):
        top[layers[:, k]] = k + 1
    palette = np.concatenate([np.zeros((b, 1, 3)), colours], axis=1).astype(np.float32)
    painted = palette[np.arange(b)[:, None, None], top]
    image = np.where(top[..., None] > 0, painted, image)

    side = min(height, width)
    radius = rng.uniform(*_RADIUS, (b, 1, 1)).astype(np.float32) * side
    margin = _EXTENT * radius + 1.0  # at least one background pixel around
    cy = margin + rng.random((b, 1, 1), np.float32) * (height - 2 * margin)
    cx = margin + rng.random((b, 1, 1), np.float32) * (width - 2 * margin)
    angle = rng.uniform(0.0, 2 * np.pi, (b, 1, 1)).astype(np.float32)
    dy, dx = (yy[0] - cy) / radius, (xx[0] - cx) / radius
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    masks = _object_masks(labels, u, v)
    colour = _random_colours(rng, (b,), reference)
    image = np.where(
        masks[..., None], colour[:, None, None, :].astype(np.float32), image
    )
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return image, labels.astype(np.int32), masks


@lficam_export("lficam_tf.data.generate_shapes")
def generate_shapes(num_images, image_size=SHAPES_IMAGE_SIZE, seed=0, split="train"):
    """Generate the "shapes" dataset: images, labels and object masks.

    Each image holds one object, a circle, square, triangle, cross, star or
    ring (`SHAPES_CLASS_NAMES`, in label order) at a random position, scale
    (radius 21% to 31% of the shorter side), rotation and saturated colour,
    drawn over a cluttered background: a low-saturation colour gradient, a
    sinusoidal texture, uniform pixel noise, and distractors that are no
    class shape (up to 3 thin lines, 5 small dots and 2 elongated blobs) in
    colours from the object's own distribution, so that neither colour nor
    saturation singles the object out: its shape does. The object is drawn last and
    flat, so its mask is exactly the pixels of its colour that it covers.
    Labels are balanced: each block of 256 images holds every class equally
    often (up to one image), in random order. The object covers 5% to 30%
    of the image (about 15% on average).

    Generation is deterministic: the same `seed`, `split` and `image_size`
    give the same arrays, and the first `n` images do not depend on
    `num_images`. Different splits are independent streams.

    Args:
        num_images: int. How many images to generate.
        image_size: int or `(height, width)`. Defaults to `(64, 64)`.
        seed: int. The random seed. Defaults to `0`.
        split: str. `"train"`, `"validation"` or `"test"`: which independent
            stream of the seed to draw from. Defaults to `"train"`.

    Returns:
        A tuple `(images, labels, masks)`: `images` uint8 of shape
        `(num_images, height, width, 3)`, `labels` int32 of shape
        `(num_images,)` and `masks` bool of shape `(num_images, height, width)`,
        True on the object.

    Example:

    >>> images, labels, masks = generate_shapes(256, image_size=32, seed=1)
    >>> images.shape, images.dtype, labels.shape, masks.shape
    ((256, 32, 32, 3), dtype('uint8'), (256,), (256, 32, 32))
    >>> dict(zip(SHAPES_CLASS_NAMES, np.bincount(labels).tolist()))
    {'circle': 43, 'square': 43, 'triangle': 43, 'cross': 43, 'star': 42, 'ring': 42}
    """
    num_images = check_int(num_images, "num_images", minimum=0)
    seed = check_int(seed, "seed", minimum=0)
    if split not in _SPLITS:
        raise ValueError(
            f"`split` must be one of {sorted(_SPLITS)}. Received: split={split!r}"
        )
    height, width = _image_size(image_size)
    images = np.empty((num_images, height, width, 3), np.uint8)
    labels = np.empty((num_images,), np.int32)
    masks = np.empty((num_images, height, width), bool)
    for index, start in enumerate(range(0, num_images, _BLOCK)):
        stop = min(start + _BLOCK, num_images)
        block = _block(int(seed), split, index, _BLOCK, height, width)
        images[start:stop], labels[start:stop], masks[start:stop] = (
            part[: stop - start] for part in block
        )
    return images, labels, masks
