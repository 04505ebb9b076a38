"""Photos from the 民情码 form: decoded, turned upright, shrunk, saved again with no metadata."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 1600  # pixels; plenty to see a broken lamp, small to store and to open on a phone
MAX_PIXELS = 40_000_000  # refuse anything larger before decoding it (decompression bombs)
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")


class BadPhoto(Exception):
    """The upload is no photo we can read; the text says what to do."""


def clean_photo(data: bytes) -> bytes:
    """A JPEG of the picture with no EXIF (no location, no camera), upright, MAX_SIDE at most."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in FORMATS:
                    raise BadPhoto("照片请用 JPG、PNG 或 WEBP 格式。")
                if img.width * img.height > MAX_PIXELS:
                    raise BadPhoto("照片像素太大，请换一张或截图后再传。")
                # The EXIF orientation is applied to the pixels, then all metadata is dropped.
                upright = ImageOps.exif_transpose(img)
                upright.thumbnail((MAX_SIDE, MAX_SIDE))
                rgb = upright.convert("RGB")
                out = io.BytesIO()
                rgb.save(out, format="JPEG", quality=85, optimize=True)
                return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadPhoto("无法识别这张照片，请换一张 JPG 或 PNG 照片。") from None
    except (OSError, ValueError, SyntaxError):
        raise BadPhoto("照片文件已损坏，请重新拍一张。") from None
