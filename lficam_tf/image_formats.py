"""The image file formats the package reads: one list for every reader.

Image folders (training and `lficam-eval`), `lficam-explain` and the
`serving_bytes` signature of an export all decode files with TensorFlow's
`tf.io.decode_image`, so they accept the same formats, listed here once:
folders and `lficam-explain` pick files by their suffix, `serving_bytes`
recognises the bytes by their signature. The module imports nothing, so that
command lines can name the formats in `--help` without loading TensorFlow.

>>> from lficam_tf.image_formats import IMAGE_SUFFIXES, FORMAT_NAMES
>>> FORMAT_NAMES
'JPEG, PNG, GIF, BMP, WebP'
>>> ".webp" in IMAGE_SUFFIXES
True
"""

import typing


class ImageFormat(typing.NamedTuple):
    """One file format: its name, file suffixes and signature.

    Attributes:
        name: str. The format's usual name.
        suffixes: tuple of str. Lower-case file suffixes, with the dot.
        signature: tuple of `(offset, bytes)`. The file starts with these
            bytes at these offsets (all of them).
    """

    name: str
    suffixes: tuple
    signature: tuple


#: The formats `tf.io.decode_image` reads (its JPEG XL aside: Pillow, which
#: checks folders and makes overlays, does not read it).
IMAGE_FORMATS = (
    ImageFormat("JPEG", (".jpg", ".jpeg"), ((0, b"\xff\xd8\xff"),)),
    ImageFormat("PNG", (".png",), ((0, b"\x89PNG\r\n\x1a\n"),)),
    ImageFormat("GIF", (".gif",), ((0, b"GIF8"),)),
    ImageFormat("BMP", (".bmp",), ((0, b"BM"),)),
    ImageFormat("WebP", (".webp",), ((0, b"RIFF"), (8, b"WEBP"))),
)

#: Every suffix of `IMAGE_FORMATS` (lower case): files read as images.
IMAGE_SUFFIXES = tuple(s for f in IMAGE_FORMATS for s in f.suffixes)

#: The format names, for messages: "JPEG, PNG, GIF, BMP, WebP".
FORMAT_NAMES = ", ".join(f.name for f in IMAGE_FORMATS)
