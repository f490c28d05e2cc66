"""Photo processing as Telegram does it: re-encode to JPEG, drop metadata, make a few sizes."""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

# Telegram's size ladder (s / m / y): long side 90, 320 and up to 1280 px.
_TARGETS = (90, 320, 1280)


class NotAnImage(ValueError):
    """The bytes are not an image Pillow can decode."""


def photo_sizes(data: bytes) -> list[tuple[int, int, bytes]]:
    """Return ``(width, height, jpeg_bytes)`` from small to large; the largest is ≤ 1280 px on its long side.

    The JPEGs are written from pixels only, so EXIF (GPS included), ICC and comments are gone.
    """
    try:
        with Image.open(io.BytesIO(data)) as src:
            src.load()
            img = ImageOps.exif_transpose(src).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise NotAnImage(str(exc)) from exc
    long_side = max(img.size)
    sizes: list[tuple[int, int, bytes]] = []
    seen: set[tuple[int, int]] = set()
    for target in _TARGETS:
        side = min(target, long_side)
        scale = side / long_side
        dims = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        if dims in seen:
            continue
        seen.add(dims)
        resized = img if dims == img.size else img.resize(dims, Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        resized.save(buf, format="JPEG", quality=87)
        sizes.append((dims[0], dims[1], buf.getvalue()))
    return sizes
