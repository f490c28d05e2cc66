"""Checks on pictures residents send: size, format, pixel count, GPS tag, and a clean re-encoded copy.

Everything that arrives is untrusted. The order of checks matters: bytes are counted before anything is
parsed, and the pixel count is read from the header (``Image.open`` is lazy) and checked before a single
pixel is decoded, so a decompression bomb — a few KB declaring 20000 x 20000 pixels — costs nothing.
Pillow's own bomb guard (a warning above ``Image.MAX_IMAGE_PIXELS``, an error above twice that) is honoured
too: its error becomes a rejection, and its warning threshold is checked here as a hard limit. Neither
``MAX_IMAGE_PIXELS`` nor the warning filters are changed: both are process-wide, and
``warnings.catch_warnings`` is not thread-safe on Python 3.11 (these checks may run in worker threads).

What is kept is a JPEG re-encoded from the pixels only: orientation applied, downscaled, and without EXIF,
XMP, ICC or comments, so nothing about the sender's phone or whereabouts leaks to a unit's chat.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.domain.geo import valid_coordinates

RejectReason = Literal["too_big_bytes", "not_an_image", "too_many_pixels", "unsupported_format", "corrupt"]

# Pillow format names we accept. MPO is what Pillow calls the multi-picture JPEGs many phones write.
ACCEPTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF"})
JPEG_QUALITY = 85

_GPS_IFD = 0x8825
_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE = 1, 2, 3, 4
_WHITE = (255, 255, 255)


class ImageRejected(Exception):
    """The picture cannot be used; ``reason`` is one of :data:`RejectReason` (a text catalogue key)."""

    def __init__(self, reason: RejectReason) -> None:
        super().__init__(reason)
        self.reason: RejectReason = reason


@dataclass(frozen=True)
class CheckedImage:
    """A picture that passed the checks: clean JPEG bytes, their size, and the GPS point of the original."""

    data: bytes
    width: int
    height: int
    gps: tuple[float, float] | None


def check_image(data: bytes, *, max_bytes: int, max_pixels: int, max_side: int = 2560) -> CheckedImage:
    """Validate an uploaded picture and return a clean, downscaled JPEG copy of its first frame.

    Raises ImageRejected with reason "too_big_bytes", "not_an_image", "unsupported_format",
    "too_many_pixels" or "corrupt".
    """
    if max_side < 1:
        raise ValueError(f"max_side must be positive, got {max_side}")
    if len(data) > max_bytes:
        raise ImageRejected("too_big_bytes")
    if not data:
        raise ImageRejected("not_an_image")

    # Bomb warnings are caught as well in case a caller runs with warnings turned into errors.
    bomb = (Image.DecompressionBombError, Image.DecompressionBombWarning)
    try:
        image = Image.open(io.BytesIO(data))
    except bomb:
        raise ImageRejected("too_many_pixels") from None
    except UnidentifiedImageError:
        raise ImageRejected("not_an_image") from None
    except Exception:  # a plugin recognised the header but choked on it
        raise ImageRejected("corrupt") from None

    with image:
        if image.format not in ACCEPTED_FORMATS:
            raise ImageRejected("unsupported_format")
        width, height = image.size
        if width < 1 or height < 1:
            raise ImageRejected("corrupt")
        pillow_limit = Image.MAX_IMAGE_PIXELS
        if width * height > max_pixels or (pillow_limit and width * height > pillow_limit):
            raise ImageRejected("too_many_pixels")
        if image.format in ("JPEG", "MPO"):
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the picture is far larger than we keep.
            image.draft("RGB", (max_side, max_side))
        try:
            image.load()
        except bomb:
            raise ImageRejected("too_many_pixels") from None
        except Exception:  # truncated or malformed: OSError, SyntaxError, ValueError, EOFError ...
            raise ImageRejected("corrupt") from None

        gps = _gps_from_image(image)
        try:
            clean = _clean_copy(image, max_side)
        except Exception:
            raise ImageRejected("corrupt") from None

    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY)
    return CheckedImage(data=out.getvalue(), width=clean.width, height=clean.height, gps=gps)


def read_gps(data: bytes) -> tuple[float, float] | None:
    """The GPS point in a picture's EXIF, or None if absent, malformed or implausible. Never raises.

    Reads the header only; no pixels are decoded.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            return _gps_from_image(image)
    except Exception:
        return None


def _gps_from_image(image: Image.Image) -> tuple[float, float] | None:
    try:
        gps = image.getexif().get_ifd(_GPS_IFD)
        return _gps_from_ifd(gps)
    except Exception:  # malformed EXIF takes many shapes; none of them is worth failing an upload for
        return None


def _gps_from_ifd(gps: Mapping[int, Any]) -> tuple[float, float] | None:
    lat = _degrees(gps.get(_GPS_LATITUDE), limit=90.0)
    lon = _degrees(gps.get(_GPS_LONGITUDE), limit=180.0)
    lat_ref = _ref(gps.get(_GPS_LATITUDE_REF))
    lon_ref = _ref(gps.get(_GPS_LONGITUDE_REF))
    # Without its reference letter a coordinate could be in either hemisphere: better none than a wrong one.
    if lat is None or lon is None or lat_ref not in ("N", "S") or lon_ref not in ("E", "W"):
        return None
    if lat_ref == "S":
        lat = -lat
    if lon_ref == "W":
        lon = -lon
    if not valid_coordinates(lat, lon) or (lat == 0.0 and lon == 0.0):  # 0,0: a device without a fix
        return None
    return lat, lon


def _ref(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ").upper() or None


def _number(value: Any) -> float | None:
    if isinstance(value, tuple) and len(value) == 2:  # a raw (numerator, denominator) pair
        num, den = value
        value = num / den if den else math.nan
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _degrees(value: Any, *, limit: float) -> float | None:
    """EXIF (degrees, minutes, seconds) rationals as decimal degrees; None if malformed."""
    if not isinstance(value, (tuple, list)) or not 1 <= len(value) <= 3:
        return None
    parts = [_number(v) for v in value]
    if any(p is None for p in parts):
        return None
    degrees, minutes, seconds = (*parts, 0.0, 0.0)[:3]
    assert degrees is not None and minutes is not None and seconds is not None
    if degrees > limit or minutes > 60 or seconds > 60:
        return None
    return degrees + minutes / 60 + seconds / 3600


def _clean_copy(image: Image.Image, max_side: int) -> Image.Image:
    """Upright RGB pixels, at most ``max_side`` on the long side, with no metadata attached."""
    try:
        upright = ImageOps.exif_transpose(image) or image
    except Exception:  # a broken orientation tag: keep the picture as stored
        upright = image
    rgb = _to_rgb(upright)
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A fresh image carries no info dict at all (JPEG save would otherwise copy e.g. the comment).
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode.startswith("I"):  # 16-bit grey (PNG): keep the top 8 bits rather than clipping to white
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return image.convert("RGB")
