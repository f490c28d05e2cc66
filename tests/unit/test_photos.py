"""Picture checks: limits before decoding, format whitelist, GPS from EXIF, a clean re-encoded copy."""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageFile
from PIL.TiffImagePlugin import IFDRational

from bot.domain import photos
from bot.domain.photos import CheckedImage, ImageRejected, check_image, read_gps

MB = 1024 * 1024
# Pillow warns about bombs and about corrupt EXIF; both are expected here.
pytestmark = [
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
    pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning"),
]
REASONS = ("too_big_bytes", "not_an_image", "too_many_pixels", "unsupported_format", "corrupt")
LIMITS: dict[str, Any] = {"max_bytes": 10 * MB, "max_pixels": 40_000_000}
# Fuyang railway station, as a phone writes it: N 32°53'26.16", E 115°48'52.92".
STATION_GPS = {1: "N", 2: (32.0, 53.0, 26.16), 3: "E", 4: (115.0, 48.0, 52.92)}
STATION = (32 + 53 / 60 + 26.16 / 3600, 115 + 48 / 60 + 52.92 / 3600)


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def jpeg(
    size: tuple[int, int] = (64, 48),
    gps: dict[int, Any] | None = None,
    orientation: int | None = None,
    **extra: Any,
) -> bytes:
    exif = Image.Exif()
    if gps is not None:
        exif[0x8825] = gps
    if orientation is not None:
        exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    return encode(Image.new("RGB", size, (200, 30, 30)), "JPEG", exif=exif, **extra)


def png_declaring(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose IHDR is patched to claim width x height (CRC fixed): a decompression bomb."""
    data = bytearray(encode(Image.new("1", (1, 1)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def reopen(result: CheckedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return image


def rejected(data: bytes, **limits: Any) -> str:
    with pytest.raises(ImageRejected) as exc:
        check_image(data, **{**LIMITS, **limits})
    return exc.value.reason


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any pixel data is decoded."""

    def refuse(self: Image.Image) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


# --- accepted pictures -------------------------------------------------------------------------------------


FORMATS_AND_MODES = [
    ("JPEG", "RGB"),
    ("PNG", "RGB"),
    ("PNG", "L"),
    ("PNG", "1"),
    ("WEBP", "RGB"),
    ("GIF", "P"),
]


@pytest.mark.parametrize(("fmt", "mode"), FORMATS_AND_MODES)
def test_accepted_formats_come_out_as_jpeg(fmt: str, mode: str) -> None:
    result = check_image(encode(Image.new(mode, (30, 20)), fmt), **LIMITS)
    out = reopen(result)
    assert out.format == "JPEG" and out.mode == "RGB"
    assert (result.width, result.height) == out.size == (30, 20)
    assert result.gps is None


def test_transparent_png_is_flattened_on_white() -> None:
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 16, 16))
    out = reopen(check_image(encode(image, "PNG"), **LIMITS))
    r, g, b = out.getpixel((28, 28))  # type: ignore[misc]
    assert min(r, g, b) > 240
    r, g, b = out.getpixel((4, 4))  # type: ignore[misc]
    assert b > 150 and r < 100


def test_animated_gif_keeps_the_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    r, _, b = reopen(check_image(data, **LIMITS)).getpixel((8, 8))  # type: ignore[misc]
    assert r > 200 and b < 60


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (8, 8), 0)
    image.putpixel((0, 0), 32768)
    out = reopen(check_image(encode(image, "PNG"), **LIMITS))
    grey = out.getpixel((0, 0))[0]  # type: ignore[index]
    assert 100 < grey < 160


def test_large_picture_is_downscaled_to_max_side() -> None:
    result = check_image(jpeg((1200, 300)), **LIMITS, max_side=256)
    assert (result.width, result.height) == (256, 64)
    assert reopen(result).size == (256, 64)


def test_small_picture_is_not_enlarged() -> None:
    result = check_image(jpeg((100, 50)), **LIMITS, max_side=256)
    assert (result.width, result.height) == (100, 50)


ORIENTATIONS = [(1, (40, 20)), (3, (40, 20)), (6, (20, 40)), (8, (20, 40))]


@pytest.mark.parametrize(("orientation", "size"), ORIENTATIONS)
def test_exif_orientation_is_applied(orientation: int, size: tuple[int, int]) -> None:
    result = check_image(jpeg((40, 20), orientation=orientation), **LIMITS)
    assert reopen(result).size == size


def test_orientation_applied_before_downscale() -> None:
    result = check_image(jpeg((400, 100), orientation=6), **LIMITS, max_side=200)
    assert (result.width, result.height) == (50, 200)


def test_bad_max_side_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        check_image(jpeg(), **LIMITS, max_side=0)


# --- no metadata survives ---------------------------------------------------------------------------------


def test_output_has_no_metadata() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = jpeg(gps=STATION_GPS, orientation=6, comment=b"Zhang San, 138 0000 0000", icc_profile=icc)
    original = Image.open(io.BytesIO(data))
    assert original.getexif() and "comment" in original.info  # the input really has all of that

    result = check_image(data, **LIMITS)
    assert result.gps == pytest.approx(STATION)
    out = reopen(result)
    assert not out.getexif()
    assert out.getexif().get_ifd(0x8825) == {}
    for key in ("exif", "comment", "icc_profile", "xmp", "XML:com.adobe.xmp"):
        assert key not in out.info
    assert b"Exif" not in result.data and b"Zhang San" not in result.data and b"PhoneMaker" not in result.data
    assert read_gps(result.data) is None


def test_png_text_chunks_do_not_survive() -> None:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Li Si")
    result = check_image(encode(Image.new("RGB", (8, 8)), "PNG", pnginfo=info), **LIMITS)
    assert b"Li Si" not in result.data


# --- GPS ---------------------------------------------------------------------------------------------------


def test_gps_read_from_jpeg() -> None:
    assert read_gps(jpeg(gps=STATION_GPS)) == pytest.approx(STATION)


def test_gps_south_and_west_are_negative() -> None:
    gps = {**STATION_GPS, 1: "S", 3: "W"}
    assert read_gps(jpeg(gps=gps)) == pytest.approx((-STATION[0], -STATION[1]))


def test_gps_as_ifd_rationals() -> None:
    latitude = (IFDRational(32), IFDRational(53), IFDRational(2616, 100))
    gps = {1: "N", 2: latitude, 3: "E", 4: (115.0, 48.0, 52.92)}
    assert read_gps(jpeg(gps=gps)) == pytest.approx(STATION)


def test_gps_from_png_and_webp() -> None:
    exif = Image.Exif()
    exif[0x8825] = STATION_GPS
    for fmt in ("PNG", "WEBP"):
        data = encode(Image.new("RGB", (8, 8)), fmt, exif=exif)
        assert read_gps(data) == pytest.approx(STATION)
        assert check_image(data, **LIMITS).gps == pytest.approx(STATION)


@pytest.mark.parametrize(
    "gps",
    [
        {},
        {1: "N", 2: (32.0, 53.0, 26.16)},  # no longitude
        {2: (32.0, 53.0, 26.16), 4: (115.0, 48.0, 52.92)},  # no hemisphere letters
        {**STATION_GPS, 1: "X"},
        {**STATION_GPS, 2: (95.0, 0.0, 0.0)},  # beyond the pole
        {**STATION_GPS, 4: (181.0, 0.0, 0.0)},
        {**STATION_GPS, 2: (32.0, 75.0, 0.0)},  # 75 minutes
        {**STATION_GPS, 2: (IFDRational(32, 0), IFDRational(0), IFDRational(0))},  # zero denominator
        {**STATION_GPS, 2: (0.0, 0.0, 0.0), 4: (0.0, 0.0, 0.0)},  # 0,0: no fix
        {**STATION_GPS, 2: (32.0, 1.0, 2.0, 3.0)},
    ],
    ids=lambda g: repr(g)[:40],
)
def test_implausible_or_incomplete_gps_is_none(gps: dict[int, Any]) -> None:
    data = jpeg(gps=gps)
    assert read_gps(data) is None
    assert check_image(data, **LIMITS).gps is None


def test_gps_helper_accepts_raw_pairs_and_bytes_refs() -> None:
    gps = {1: b"N\x00", 2: ((32, 1), (53, 1), (2616, 100)), 3: "e", 4: ((115, 1), (48, 1), (5292, 100))}
    assert photos._gps_from_ifd(gps) == pytest.approx(STATION)
    assert photos._gps_from_ifd({**gps, 2: ((32, 0), (53, 1), (0, 1))}) is None
    assert photos._gps_from_ifd({**gps, 2: (-32.0, 0.0, 0.0)}) is None
    assert photos._gps_from_ifd({**gps, 2: "32.89"}) is None
    assert photos._gps_from_ifd({**gps, 1: 78}) is None


def malformed_exif_jpeg(exif_payload: bytes) -> bytes:
    """A JPEG whose APP1 Exif segment carries ``exif_payload`` verbatim."""
    plain = encode(Image.new("RGB", (16, 16), "blue"), "JPEG")
    segment = b"Exif\x00\x00" + exif_payload
    app1 = b"\xff\xe1" + struct.pack(">H", len(segment) + 2) + segment
    return plain[:2] + app1 + plain[2:]


TIFF_HEADER = b"MM\x00\x2a\x00\x00\x00\x08"
GPS_POINTER = b"\x88\x25\x00\x04\x00\x00\x00\x01"  # tag 0x8825, type LONG, count 1
MALFORMED_EXIF = [
    b"",
    b"garbage garbage garbage",
    b"MM\x00\x2a\x00\x00\x00\x08",  # header only, IFD missing
    b"II\x2a\x00\xff\xff\xff\x7f",  # IFD offset far beyond the end
    # IFD0 with one entry: GPS IFD pointer (0x8825, LONG) pointing beyond the end.
    TIFF_HEADER + b"\x00\x01" + GPS_POINTER + b"\x7f\xff\xff\xff" + b"\0\0\0\0",
    # GPS IFD pointer to IFD0 itself (a loop).
    TIFF_HEADER + b"\x00\x01" + GPS_POINTER + b"\x00\x00\x00\x08" + b"\0\0\0\0",
    # 65535 entries declared, none present.
    b"MM\x00\x2a\x00\x00\x00\x08\xff\xff",
]


@pytest.mark.parametrize("payload", MALFORMED_EXIF)
def test_malformed_exif_is_no_gps_and_not_an_error(payload: bytes) -> None:
    data = malformed_exif_jpeg(payload)
    assert read_gps(data) is None
    result = check_image(data, **LIMITS)
    assert result.gps is None
    assert not reopen(result).getexif()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_random_exif_never_raises(payload: bytes) -> None:
    data = malformed_exif_jpeg(b"MM\x00\x2a\x00\x00\x00\x08" + payload)
    assert read_gps(data) is None or isinstance(read_gps(data), tuple)
    result = check_image(data, **LIMITS)
    assert result.width == 16


@pytest.mark.parametrize("data", [b"", b"not an image", b"\xff\xd8\xff", png_declaring(40_000, 40_000)])
def test_read_gps_never_raises(data: bytes) -> None:
    assert read_gps(data) is None


# --- rejections --------------------------------------------------------------------------------------------


def test_too_big_is_refused_before_parsing(no_decoding: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("opened an oversized file")

    data = jpeg()
    monkeypatch.setattr(Image, "open", refuse)
    assert rejected(data, max_bytes=len(data) - 1) == "too_big_bytes"


def test_exactly_max_bytes_is_fine() -> None:
    data = jpeg()
    assert check_image(data, max_bytes=len(data), max_pixels=10_000).width == 64


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, a text file renamed to photo.jpg\n", bytes(range(256)) * 4, b"%PDF-1.4\n%\xe2\xe3"],
    ids=["empty", "text", "random", "pdf"],
)
def test_not_an_image(data: bytes) -> None:
    assert rejected(data) == "not_an_image"


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO", "PPM", "TGA"])
def test_other_image_formats_are_unsupported(fmt: str) -> None:
    assert rejected(encode(Image.new("RGB", (16, 16)), fmt)) == "unsupported_format"


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode(Image.effect_noise((200, 150), 60).convert("RGB"), "JPEG")
    assert rejected(data[: len(data) // 2]) == "corrupt"


def test_truncated_png_is_corrupt() -> None:
    data = encode(Image.effect_noise((200, 150), 60), "PNG")
    assert rejected(data[: len(data) // 2]) == "corrupt"


def test_pixel_bomb_is_refused_without_decoding(no_decoding: None) -> None:
    bomb = png_declaring(20_000, 20_000)
    assert len(bomb) < 100
    assert rejected(bomb) == "too_many_pixels"


def test_our_pixel_limit_is_checked_before_decoding(no_decoding: None) -> None:
    # 3000 x 3000 is far below Pillow's own guard: only our limit stops it.
    assert rejected(png_declaring(3000, 3000), max_pixels=1_000_000) == "too_many_pixels"


def test_pixel_limit_counts_pixels_not_sides(no_decoding: None) -> None:
    assert rejected(jpeg((101, 100)), max_pixels=10_000) == "too_many_pixels"


def test_exactly_max_pixels_is_fine() -> None:
    assert check_image(jpeg((100, 100)), max_bytes=MB, max_pixels=10_000).width == 100


def test_pillow_bomb_warning_is_a_rejection_even_with_a_generous_limit(no_decoding: None) -> None:
    # Between Image.MAX_IMAGE_PIXELS and twice that Pillow only warns; that must still be a rejection.
    side = int((Image.MAX_IMAGE_PIXELS * 1.5) ** 0.5)
    assert rejected(png_declaring(side, side), max_pixels=10**12) == "too_many_pixels"


def test_pillow_global_settings_are_left_alone() -> None:
    before = (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters))
    for data in (png_declaring(20_000, 20_000), png_declaring(3000, 3000), jpeg()):
        with contextlib.suppress(ImageRejected):
            check_image(data, **LIMITS)
    assert (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES, list(warnings.filters)) == before


def test_rejection_reason_is_exposed() -> None:
    error = ImageRejected("corrupt")
    assert error.reason == "corrupt"
    assert str(error) == "corrupt"


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_rejected_cleanly(data: bytes) -> None:
    try:
        result = check_image(data, max_bytes=MB, max_pixels=1_000_000)
    except ImageRejected as exc:
        assert exc.reason in REASONS
    else:
        assert reopen(result).format == "JPEG"


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60), st.integers(0, 3))
def test_any_small_picture_cut_in_half_is_rejected(width: int, height: int, seed: int) -> None:
    data = encode(Image.effect_noise((width, height), 40 + seed).convert("RGB"), "PNG")
    for cut in (len(data) // 3, len(data) // 2):
        with pytest.raises(ImageRejected):
            check_image(data[:cut], **LIMITS)


def test_bomb_is_rejected_when_warnings_are_errors(no_decoding: None) -> None:
    side = int((Image.MAX_IMAGE_PIXELS * 1.5) ** 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rejected(png_declaring(side, side), max_pixels=10**12) == "too_many_pixels"


def test_lowered_pillow_limit_is_honoured(monkeypatch: pytest.MonkeyPatch, no_decoding: None) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    assert rejected(png_declaring(40, 40), max_pixels=10**9) == "too_many_pixels"


def test_read_gps_decodes_no_pixels(no_decoding: None) -> None:
    assert read_gps(jpeg(gps=STATION_GPS)) == pytest.approx(STATION)
