"""Avatars: initials on a colour that stays the same for a customer.

Pure functions; uploads are validated and re-encoded here too (see
``process_upload``), so the UI only passes bytes in.
"""

from __future__ import annotations

import base64
import hashlib
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

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
# Far below Pillow's own bomb limit (~89 MP): no camera photo a person uploads
# as an avatar is bigger, and decoding 40 MP already takes ~160 MB of memory.
MAX_PIXELS = 40_000_000
AVATAR_SIZE = 256
ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP"}
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp"]
OUTPUT_MIME = "image/webp"


def _reject(sentence: str) -> ValidationFailed:
    return ValidationFailed({"avatar": sentence})


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _too_many_pixels(filename: str, width: int = 0, height: int = 0) -> str:
    size = f" is {width:,} × {height:,} pixels," if width else " has"
    return (
        f"“{filename}”{size} too many pixels to process. "
        f"Upload a picture of at most {MAX_PIXELS // 1_000_000} megapixels."
    )


def _decode(data: bytes, filename: str) -> Image.Image:
    """Open and fully decode ``data``, or raise a sentence saying why it cannot be."""
    # Pillow only warns between its limit and twice it; make every bomb an error.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise _reject(_too_many_pixels(filename)) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise _reject(
                f"“{filename}” is not a picture we can read. Upload a PNG, JPEG or WebP image."
            ) from None
        if image.format not in ACCEPTED_FORMATS:
            kind = image.format or "different"
            raise _reject(f"“{filename}” is a {kind} image. Upload a PNG, JPEG or WebP image.")
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise _reject(_too_many_pixels(filename, width, height))
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
            raise _reject(
                f"“{filename}” could not be read; the file seems damaged or incomplete."
            ) from exc
    return image


def _square(image: Image.Image) -> Image.Image:
    """The centre square, at most AVATAR_SIZE wide: avatars are shown as circles."""
    side = min(image.size)
    left = (image.width - side) // 2
    top = (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    if side > AVATAR_SIZE:
        square = square.resize((AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    return square


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
    image = _decode(data, name)
    try:
        # Phone photos are stored sideways with an EXIF note to rotate them.
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError):
        upright = image
    has_alpha = upright.mode in {"RGBA", "LA", "PA"} or (
        upright.mode == "P" and "transparency" in upright.info
    )
    mode = "RGBA" if has_alpha else "RGB"
    square = _square(upright.convert(mode))
    # A fresh image carries pixels only: nothing of the upload's metadata survives.
    clean = Image.new(mode, square.size)
    clean.paste(square)
    out = io.BytesIO()
    clean.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue(), OUTPUT_MIME
