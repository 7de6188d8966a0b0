"""Avatar uploads: the content decides, pictures are re-encoded small and clean."""

from __future__ import annotations

import io

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
    reason = _reason(bomb, "bomb.png")
    assert "too many pixels" in reason
    assert "at most 40 megapixels" in reason


def test_just_under_the_pixel_limit_but_over_pillows_own_bomb_limit_is_refused() -> None:
    # 9,500 × 9,500 = 90 MP: Pillow itself only warns here; the upload must still fail.
    bomb = _picture("PNG", (9_500, 9_500), "1")
    assert "too many pixels" in _reason(bomb, "bomb.png")


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
