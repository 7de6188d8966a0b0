"""Avatars: initials on a colour that stays the same for a customer.

Pure functions; uploads are validated and re-encoded here too (see
``process_upload``), so the UI only passes bytes in.
"""

from __future__ import annotations

import base64
import hashlib
import io
import warnings

from PIL import ExifTags, Image, UnidentifiedImageError
from PIL.JpegImagePlugin import JpegImageFile

from crm.errors import ValidationFailed

# Background colours with white text at >= 4.5:1 contrast (WCAG AA).
PALETTE: tuple[str, ...] = (
    "#1d4ed8",
    "#0f766e",
    "#7c3aed",
    "#b91c1c",
    "#c2410c",
    "#15803d",
    "#be185d",
    "#4338ca",
    "#0369a1",
    "#a16207",
)


def initials(first_name: str, last_name: str) -> str:
    """Up to two capital letters, the first letter or digit of each name; "?" when none.

    Punctuation is skipped: "<b>Ana</b>" and "'t Hooft" give "B" and "T", not "<" and "'".
    """
    letters = [next((c for c in name if c.isalnum()), "") for name in (first_name, last_name)]
    return "".join(letters).upper() or "?"


def colour(customer_id: int) -> str:
    """A palette colour chosen by a hash of the id, so it never changes between runs."""
    digest = hashlib.blake2b(str(customer_id).encode(), digest_size=2).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


def data_uri(image: bytes, mime_type: str) -> str:
    """An image as a ``data:`` URI, for an <img> in HTML the app writes itself."""
    return f"data:{mime_type};base64,{base64.b64encode(image).decode('ascii')}"


# --- Uploads ------------------------------------------------------------------

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# Most pixels accepted per format: the peak memory of process_upload must stay within
# 150 MB above the idle process. Measured in a fresh process per worst case at these
# limits (tests/test_avatar_memory.py; Pillow 13, libjpeg-turbo, libwebp 1.6; time on 2
# shared cores). Before these limits, a 39.7 MP 165 KB PNG took +666 MB and 0.8 s.
# - PNG is decoded whole (no smaller scale exists), then converted and averaged down strip
#   by strip: 4 bytes a pixel (Pillow keeps RGB as RGBX, 16-bit colour as 8-bit), 2 for
#   16-bit grey, 1 for palette, grey and 1-bit. 30 MP RGBA, 8 or 16 bits, also interlaced,
#   turned by EXIF or 16,383 wide: +127 to +129 MB, 0.3-0.4 s; palette +40 MB.
# - JPEG is decoded at 1/2 to 1/8 scale (draft), row by row: 64 MP 4:2:0 or 4:4:4 baseline
#   +17 MB, 0.1 s; 16,383 × 511 (full scale) +39 MB. 64 MP covers phone cameras (12-50 MP,
#   some 64) and stays below Pillow's own 89 MP bomb warning.
# - WebP: libwebp keeps two RGBA canvases and Pillow a copy and the picture, 16 bytes a
#   pixel: 8 MP +128 MB, 0.2 s. (A 12 MP photo fits in 2 MB as JPEG, rarely as WebP.)
MAX_PIXELS = {"PNG": 30_000_000, "JPEG": 64_000_000, "WEBP": 8_000_000}
# A progressive JPEG (or one whose first scan lacks a colour component) makes libjpeg keep
# every DCT coefficient of the picture, 2 bytes a sample, whatever the draft scale:
# 48 MP 4:2:0 measured +144 MB, 4:4:4 +281 MB, CMYK +373 MB. 60 M samples is 40 MP in
# 4:2:0 colour, 20 MP in 4:4:4, 60 MP grey, 15 MP CMYK: +117 to +119 MB, 0.2-0.3 s; the
# worst, 15 MP CMYK only 915 pixels high (decoded at half scale), +131 MB, 0.4 s.
MAX_BUFFERED_JPEG_SAMPLES = 60_000_000
# WebP's own limit, for every format: PNG holds a whole row twice while decoding it (one
# row of 30 M 16-bit RGBA pixels: +573 MB), a 1-pixel-wide one spends 8 bytes a row on
# pointers (+349 MB); a JPEG with a short side under 512 (1,024) pixels is decoded at full
# (half) scale: 65,500 × 511 baseline took +135 MB, and a progressive one adds its
# coefficients to that.
MAX_SIDE = 16_383
AVATAR_SIZE = 256
ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}
# Phones save JPEGs with a second, smaller picture inside (Multi-Picture Format); Pillow
# names those "MPO". The first picture is an ordinary JPEG, and that is the one decoded.
_SAME_AS = {"MPO": "JPEG"}
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp"]
OUTPUT_MIME = "image/webp"
# Pixels converted and averaged down at a time: ~4 MB of RGBA.
_STRIP_PIXELS = 1_000_000
_SIXTEEN_BIT_GREY = {"I;16", "I;16B", "I;16L", "I;16N", "I"}
# EXIF orientation -> the turn that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _reject(sentence: str) -> ValidationFailed:
    return ValidationFailed({"avatar": sentence})


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f}".removesuffix(".0")


def _every_limit() -> str:
    """The limits in words: 30 megapixels as PNG, 64 as JPEG and 8 as WebP."""
    parts = [f"{_megapixels(most)} as {ACCEPTED_FORMATS[fmt]}" for fmt, most in MAX_PIXELS.items()]
    parts[0] = parts[0].replace(" as ", " megapixels as ")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _samples_per_pixel(image: JpegImageFile) -> float:
    """DCT samples per pixel: 1.5 for 4:2:0 colour, 3 for 4:4:4, 1 grey, 4 CMYK."""
    widest = max(h for _, h, _, _ in image.layer)
    tallest = max(v for _, _, v, _ in image.layer)
    return sum(h * v for _, h, v, _ in image.layer) / (widest * tallest)


def _first_scan_has_every_component(data: bytes, components: int) -> bool:
    """Whether the first scan (SOS) of a JPEG holds all its colour components: libjpeg then
    decodes it in one pass, row by row; otherwise it keeps the whole picture's coefficients."""
    position = 2  # after the start-of-image marker
    while position + 4 < len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xDA:
            return data[position + 4] >= components
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return False  # no readable scan header: assume the costly kind


def _format(image: Image.Image) -> str:
    fmt = str(image.format)
    return _SAME_AS.get(fmt, fmt)


def _pixel_limit(image: Image.Image, data: bytes) -> tuple[int, str]:
    """The most pixels accepted for this picture, and who the limit is for, in words."""
    limit = MAX_PIXELS[_format(image)]
    if isinstance(image, JpegImageFile) and (
        image.info.get("progressive") or not _first_scan_has_every_component(data, len(image.layer))
    ):
        buffered = int(MAX_BUFFERED_JPEG_SAMPLES / _samples_per_pixel(image))
        if buffered < limit:
            return buffered, "a progressive JPEG like this one"
    return limit, f"{ACCEPTED_FORMATS[_format(image)]} pictures"


def _open(data: bytes, filename: str) -> Image.Image:
    """Open ``data`` without decoding it, or raise a sentence saying why it cannot be used."""
    # Pillow only warns between its limit and twice it; make every bomb an error.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _reject(
                f"“{filename}” has too many pixels to process. Upload a picture of at most "
                f"{_every_limit()}."
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _reject(
                f"“{filename}” is not a picture we can read. Upload a PNG, JPEG or WebP image."
            ) from None
    if _format(image) not in ACCEPTED_FORMATS:
        kind = image.format or "different"  # as Pillow names it: "GIF", "BMP"
        raise _reject(f"“{filename}” is a {kind} image. Upload a PNG, JPEG or WebP image.")
    width, height = image.size
    if max(width, height) > MAX_SIDE:
        raise _reject(
            f"“{filename}” is {width:,} × {height:,} pixels; pictures can be at most "
            f"{MAX_SIDE:,} pixels wide and {MAX_SIDE:,} high. Upload a smaller picture."
        )
    limit, who = _pixel_limit(image, data)
    if width * height > limit:
        raise _reject(
            f"“{filename}” is {width:,} × {height:,} pixels "
            f"({_megapixels(width * height)} megapixels); {who} can be at most "
            f"{_megapixels(limit)} megapixels. Upload a smaller picture."
        )
    return image


def _load(image: Image.Image, filename: str) -> None:
    """Decode the pixels; a JPEG at the smallest scale that still leaves a sharp avatar."""
    reduction = min(image.size) // AVATAR_SIZE
    if reduction > 1:
        # libjpeg decodes at 1/2, 1/4 or 1/8 scale, no smaller than asked; others ignore it.
        # Its scaled DCT is as smooth as a box average, so the avatar's width is enough.
        image.draft(image.mode, (image.width // reduction, image.height // reduction))
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
            raise _reject(
                f"“{filename}” could not be read; the file seems damaged or incomplete."
            ) from exc


def _eight_bit(strip: Image.Image, mode: str) -> Image.Image:
    """``strip`` in ``mode`` (RGB or RGBA), 16-bit grey scaled to 8 bits, not clipped to white."""
    if strip.mode in _SIXTEEN_BIT_GREY:
        strip = strip.point(lambda value: value * (255 / 65535) + 0.5).convert("L")
    return strip.convert(mode)


def _centre_square(image: Image.Image, mode: str) -> Image.Image:
    """The centre square in 8-bit ``mode``, at most AVATAR_SIZE wide.

    Strips are converted and box-averaged one at a time: a whole-picture convert (and the
    premultiplied copy Pillow makes to scale RGBA) would add 4 bytes a pixel each.
    """
    side = min(image.size)
    # Average down to at least twice the avatar's size, then Lanczos for a sharp result.
    factor = max(1, side // (2 * AVATAR_SIZE))
    side -= side % factor
    left, top = (image.width - side) // 2, (image.height - side) // 2
    reduced = Image.new(mode, (side // factor, side // factor))
    rows = factor * max(1, _STRIP_PIXELS // (side * factor))
    for y in range(0, side, rows):
        strip = image.crop((left, top + y, left + side, top + min(y + rows, side)))
        reduced.paste(_eight_bit(strip, mode).reduce(factor), (0, y // factor))
    if reduced.width > AVATAR_SIZE:
        return reduced.resize((AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    return reduced


def _upright(image: Image.Image, square: Image.Image) -> Image.Image:
    """``square`` turned as the picture's EXIF orientation says (phones store photos sideways)."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except (OSError, SyntaxError, ValueError):
        return square
    turn = _UPRIGHT.get(orientation)
    return square if turn is None else square.transpose(turn)


def process_upload(data: bytes, filename: str) -> tuple[bytes, str]:
    """Check an uploaded picture and re-encode it as a small, clean avatar.

    The content decides, never the file name: the bytes must open in Pillow
    as PNG, JPEG or WebP. The result is the centre square, scaled down to at
    most 256 × 256, turned upright per its EXIF orientation and saved as WebP
    with no metadata (no EXIF, GPS or colour profile). Returns (bytes, mime type).

    Raises ValidationFailed (field ``avatar``) with a sentence for an empty,
    too large, unsupported, damaged or oversized-in-pixels file.
    """
    name = filename or "The file"
    if not data:
        raise _reject(f"“{name}” is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise _reject(
            f"“{name}” is {_megabytes(len(data))}; pictures can be at most "
            f"{_megabytes(MAX_UPLOAD_BYTES)}."
        )
    image = _open(data, name)
    _load(image, name)
    has_alpha = image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )
    mode = "RGBA" if has_alpha else "RGB"
    # Turned after shrinking: the centre square of a turned picture is the turned square.
    square = _upright(image, _centre_square(image, mode))
    # A fresh image carries pixels only: nothing of the upload's metadata survives.
    clean = Image.new(mode, square.size)
    clean.paste(square)
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue(), OUTPUT_MIME
