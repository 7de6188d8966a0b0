"""Avatar uploads: the content decides, pictures are re-encoded small and clean."""

from __future__ import annotations

import io
import struct

import numpy as np
import png_files
import pytest
from PIL import Image

from crm import avatars
from crm.errors import ValidationFailed


def _picture(
    fmt: str, size: tuple[int, int] = (640, 480), mode: str = "RGB", **save: object
) -> bytes:
    image = Image.new(mode, size, "#3366cc" if mode != "1" else 1)
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def _reason(data: bytes, filename: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        avatars.process_upload(data, filename)
    return caught.value.errors["avatar"]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepted_formats_are_reencoded_as_small_webp(fmt: str) -> None:
    data, mime = avatars.process_upload(_picture(fmt), f"me.{fmt.lower()}")
    assert mime == "image/webp"
    with Image.open(io.BytesIO(data)) as out:
        assert out.format == "WEBP"
        # The centre square of 640 × 480, scaled down to the avatar size.
        assert out.size == (avatars.AVATAR_SIZE, avatars.AVATAR_SIZE)


def test_small_pictures_are_not_scaled_up() -> None:
    data, _ = avatars.process_upload(_picture("PNG", (90, 120)), "small.png")
    with Image.open(io.BytesIO(data)) as out:
        assert out.size == (90, 90)


def test_transparency_survives() -> None:
    logo = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    logo.paste((200, 30, 30, 255), (16, 16, 48, 48))
    upload = io.BytesIO()
    logo.save(upload, format="PNG")
    data, _ = avatars.process_upload(upload.getvalue(), "logo.png")
    with Image.open(io.BytesIO(data)) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((0, 0))[3] == 0  # type: ignore[index]
        assert out.getpixel((32, 32))[3] == 255  # type: ignore[index]


def test_metadata_is_stripped_and_orientation_applied() -> None:
    exif = Image.Exif()
    exif[0x0110] = "Secret Phone 3000"  # camera model
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    upload = _picture("JPEG", (400, 200), exif=exif.tobytes())
    with Image.open(io.BytesIO(upload)) as original:
        assert original.getexif()[0x0110] == "Secret Phone 3000"
    data, _ = avatars.process_upload(upload, "photo.jpg")
    assert b"Secret Phone" not in data
    with Image.open(io.BytesIO(data)) as out:
        assert not out.getexif()
        assert "icc_profile" not in out.info


def test_a_renamed_text_file_is_refused() -> None:
    reason = _reason(b"just some notes, not a picture\n" * 10, "holiday.png")
    assert reason == "“holiday.png” is not a picture we can read. Upload a PNG, JPEG or WebP image."


def test_other_image_formats_are_refused_by_content() -> None:
    reason = _reason(_picture("GIF"), "pretending.png")
    assert reason == "“pretending.png” is a GIF image. Upload a PNG, JPEG or WebP image."


def test_a_file_over_two_megabytes_is_refused_before_decoding() -> None:
    reason = _reason(b"\x89PNG" + b"0" * avatars.MAX_UPLOAD_BYTES, "huge.png")
    assert reason == "“huge.png” is 2.0 MB; pictures can be at most 2.0 MB."
    # Exactly at the limit is not "too large" (it fails later, as a non-picture).
    at_limit = _reason(b"0" * avatars.MAX_UPLOAD_BYTES, "limit.png")
    assert "at most 2.0 MB" not in at_limit


def test_a_decompression_bomb_is_refused() -> None:
    # 10,000 × 10,000 one-bit pixels compress to a few kB but decode to 100 MP.
    bomb = _picture("PNG", (10_000, 10_000), "1")
    assert len(bomb) < avatars.MAX_UPLOAD_BYTES
    assert _reason(bomb, "bomb.png") == (
        "“bomb.png” has too many pixels to process. Upload a picture of at most "
        "30 megapixels as PNG, 64 as JPEG and 8 as WebP."
    )


def test_between_pillows_warning_and_error_limits_is_refused() -> None:
    # 9,500 × 9,500 = 90 MP: Pillow itself only warns here; the upload must still fail.
    bomb = _picture("PNG", (9_500, 9_500), "1")
    assert "too many pixels" in _reason(bomb, "bomb.png")


# --- Pixel limits (issue 12, item 5: a 39.7 MP PNG took 600 MB to decode) -------
# tests/test_avatar_memory.py measures the memory of the largest accepted pictures.


@pytest.mark.parametrize(
    ("fmt", "size", "mode", "expected"),
    [
        ("PNG", (6_400, 4_800), "1", "30.7 megapixels); PNG pictures can be at most 30 "),
        ("WEBP", (3_300, 2_500), "RGB", "8.2 megapixels); WebP pictures can be at most 8 "),
        ("JPEG", (9_300, 7_000), "L", "65.1 megapixels); JPEG pictures can be at most 64 "),
    ],
)
def test_a_picture_over_its_formats_pixel_limit_is_refused_with_the_limit(
    fmt: str, size: tuple[int, int], mode: str, expected: str
) -> None:
    reason = _reason(_picture(fmt, size, mode), "big")
    width, height = size
    size_words = f"{width:,} × {height:,} pixels"
    assert reason == f"“big” is {size_words} ({expected}megapixels. Upload a smaller picture."


def test_a_48_megapixel_phone_photo_is_accepted() -> None:
    data, _ = avatars.process_upload(_picture("JPEG", (8_000, 6_000), quality=70), "phone.jpg")
    with Image.open(io.BytesIO(data)) as out:
        assert out.size == (avatars.AVATAR_SIZE, avatars.AVATAR_SIZE)


def test_a_progressive_jpeg_has_a_lower_limit_than_a_baseline_one() -> None:
    # 42 MP: libjpeg keeps every DCT coefficient of a progressive JPEG (1.5 samples a pixel
    # in 4:2:0 colour, 2 bytes each), so it may hold 40 MP; a baseline one of the same size passes.
    size = (7_000, 6_000)
    baseline, _ = avatars.process_upload(_picture("JPEG", size), "baseline.jpg")
    assert baseline
    reason = _reason(_picture("JPEG", size, progressive=True), "web.jpg")
    assert reason == (
        "“web.jpg” is 7,000 × 6,000 pixels (42 megapixels); a progressive JPEG like this one "
        "can be at most 40 megapixels. Upload a smaller picture."
    )


def _first_scan_of_one_component(jpeg: bytes) -> bytes:
    """The same JPEG header, but its first scan (SOS) names only the first component."""
    start = jpeg.index(b"\xff\xda")
    length = int.from_bytes(jpeg[start + 2 : start + 4], "big")
    first_component = jpeg[start + 5 : start + 7]
    one = b"\xff\xda\x00\x08\x01" + first_component + b"\x00\x3f\x00"
    return jpeg[:start] + one + jpeg[start + 2 + length :]


def test_a_baseline_jpeg_scanned_one_component_at_a_time_has_the_progressive_limit() -> None:
    # 4:4:4 colour is 3 samples a pixel: 20 MP when libjpeg must keep them all.
    jpeg = _picture("JPEG", (5_000, 4_200), subsampling=0)
    assert avatars.process_upload(jpeg, "one scan.jpg")
    reason = _reason(_first_scan_of_one_component(jpeg), "three scans.jpg")
    assert "a progressive JPEG like this one can be at most 20 megapixels" in reason


def test_a_picture_wider_or_higher_than_the_limit_is_refused() -> None:
    # One row of 30 million pixels: under the pixel limit, but each row of a PNG is held
    # whole (twice) while it is decoded: 573 MB measured for a 16-bit RGBA one.
    row = png_files.png(30_000_000, 1, 16, 6, lambda _y, width: bytes(8 * width))
    assert _reason(row, "line.png") == (
        "“line.png” is 30,000,000 × 1 pixels; pictures can be at most 16,383 pixels wide "
        "and 16,383 high. Upload a smaller picture."
    )


def test_a_sideways_photo_is_turned_upright() -> None:
    # Stored sideways: left half red, right half blue; EXIF 6 says turn it 90° clockwise,
    # which puts the left half on top.
    photo = Image.new("RGB", (400, 200), "red")
    photo.paste("blue", (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    upload = io.BytesIO()
    photo.save(upload, format="JPEG", exif=exif.tobytes(), quality=95)
    data, _ = avatars.process_upload(upload.getvalue(), "sideways.jpg")
    with Image.open(io.BytesIO(data)) as out:
        assert out.size == (200, 200)
        top, bottom = (
            out.convert("RGB").getpixel((100, 20)),
            out.convert("RGB").getpixel((100, 180)),
        )
    assert top[0] > 200 and top[2] < 60  # type: ignore[index]
    assert bottom[2] > 200 and bottom[0] < 60  # type: ignore[index]


def test_a_truncated_picture_is_refused() -> None:
    whole = _picture("JPEG", (800, 800), quality=95)
    reason = _reason(whole[: len(whole) // 2], "cut.jpg")
    assert reason == "“cut.jpg” could not be read; the file seems damaged or incomplete."


def test_an_empty_file_is_refused() -> None:
    assert _reason(b"", "nothing.png") == "“nothing.png” is empty."


def test_initials_and_colour_are_stable() -> None:
    assert avatars.initials("ana", "lópez") == "AL"
    assert avatars.initials("", "") == "?"
    assert avatars.initials("<b>x</b>", "'t Hooft") == "BT"
    assert avatars.initials("  ", "Ørsted") == "Ø"
    assert avatars.initials("***", "!!!") == "?"
    assert avatars.colour(42) == avatars.colour(42)
    assert avatars.colour(42) in avatars.PALETTE


# --- 16-bit pictures (issue 12, item 7: they were saved all white) ---------------


def _avatar_pixels(upload: bytes, mode: str) -> np.ndarray:
    data, _ = avatars.process_upload(upload, "deep.png")
    with Image.open(io.BytesIO(data)) as out:
        return np.asarray(out.convert(mode), dtype=np.int32)


def _png_16_bit_grey(values: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(values.astype(np.uint16)).save(out, format="PNG")
    with Image.open(io.BytesIO(out.getvalue())) as check:
        assert check.mode == "I;16"  # really 16 bits a sample
    return out.getvalue()


def test_a_16_bit_greyscale_gradient_keeps_its_shades() -> None:
    # Every column a different 16-bit shade, from black to white across the full range.
    shades = np.linspace(0, 65535, 200).round()
    gradient = np.tile(shades, (200, 1))
    pixels = _avatar_pixels(_png_16_bit_grey(gradient), "L")
    expected = np.round(gradient * 255 / 65535)
    # WebP is lossy: a few levels of difference, never the 255 of an all-white avatar.
    assert np.abs(pixels - expected).max() <= 4
    assert pixels[100, 0] <= 4
    assert pixels[100, 199] >= 251


def test_a_16_bit_mid_grey_stays_mid_grey() -> None:
    pixels = _avatar_pixels(_png_16_bit_grey(np.full((64, 64), 32896)), "L")  # 128 × 257
    assert np.abs(pixels - 128).max() <= 2


@pytest.mark.parametrize(("colour_type", "mode"), [(2, "RGB"), (6, "RGBA"), (4, "LA")])
def test_16_bit_colour_and_grey_with_alpha_keep_their_values(colour_type: int, mode: str) -> None:
    # Pillow cannot write these; the file is made by hand. 8-bit values × 257 = the same shade.
    eight_bit = {"RGB": (51, 102, 204), "RGBA": (51, 102, 204, 153), "LA": (90, 153)}[mode]
    sample = b"".join(struct.pack(">H", value * 257) for value in eight_bit)
    upload = png_files.png(48, 48, 16, colour_type, lambda _y, width: sample * width)
    pixels = _avatar_pixels(upload, mode)
    # Lossy WebP stores colour at half resolution: a few levels off, as for an 8-bit upload.
    assert np.abs(pixels - np.array(eight_bit)).max() <= 6


def test_a_phone_jpeg_with_a_second_picture_inside_is_accepted() -> None:
    """Phones write Multi-Picture JPEGs, which Pillow opens as "MPO"."""
    main = Image.new("RGB", (600, 400), (200, 40, 40))
    preview = Image.new("RGB", (160, 120), (0, 0, 255))
    buffer = io.BytesIO()
    main.save(buffer, format="MPO", save_all=True, append_images=[preview])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"
    image, mime = avatars.process_upload(buffer.getvalue(), "phone.jpg")
    assert mime == "image/webp"
    with Image.open(io.BytesIO(image)) as avatar:
        red, _, blue = avatar.convert("RGB").getpixel((avatar.width // 2, avatar.height // 2))
    # The main picture (red), not the preview (blue).
    assert red > 150 and blue < 100
