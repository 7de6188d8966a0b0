"""Peak memory of the largest uploads the app accepts (issue 12, item 5).

A 39.7-megapixel PNG of 165 KB once raised the server's memory by 600 MB. Each worst case
here (the largest accepted size of each format and pixel layout) is processed in a fresh
Python process, so the process's peak (VmHWM) belongs to that one upload; it is compared
with the same process's memory after its imports, the idle server. Run with ``-s`` to see
the figures.
"""

from __future__ import annotations

import functools
import io
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import png_files
import pytest
from PIL import Image

from crm import avatars

BUDGET_MB = 150
ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
from crm import avatars

def megabytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)

with open(sys.argv[1], "rb") as upload:
    data = upload.read()
idle = megabytes("VmRSS")
start = time.perf_counter()
avatar, _ = avatars.process_upload(data, "worst case")
seconds = time.perf_counter() - start
print(json.dumps({"growth": megabytes("VmHWM") - idle, "seconds": seconds, "bytes": len(avatar)}))
"""


def _largest(pixels: int) -> tuple[int, int]:
    """The largest 4:3 size of at most ``pixels`` pixels: a camera's shape."""
    width = math.isqrt(pixels * 4 // 3)
    return width, pixels // width


def _widest(pixels: int, most_rows: int | None = None) -> tuple[int, int]:
    """The widest accepted size of at most ``pixels`` pixels and ``most_rows`` rows."""
    rows = pixels // avatars.MAX_SIDE
    return avatars.MAX_SIDE, rows if most_rows is None else min(rows, most_rows)


# A JPEG whose short side is under 2 (4) avatar widths is decoded at full (half) scale.
FULL_SCALE_ROWS = 2 * avatars.AVATAR_SIZE - 1
HALF_SCALE_ROWS = 4 * avatars.AVATAR_SIZE - 1
PNG_LIMIT = avatars.MAX_PIXELS["PNG"]
WEBP_LIMIT = avatars.MAX_PIXELS["WEBP"]


def _made_by_hand(
    size: tuple[int, int], bit_depth: int, colour_type: int, **options: object
) -> bytes:
    """A PNG with a varied but repeating row: tens of megapixels in kilobytes."""

    @functools.cache
    def row(_y: int, pass_width: int) -> bytes:
        length = png_files.row_bytes(pass_width, bit_depth, colour_type)
        return (bytes(range(7, 256, 3)) * (length // 83 + 1))[:length]

    return png_files.png(*size, bit_depth, colour_type, row, **options)  # type: ignore[arg-type]


def _palette_png_with_transparency() -> bytes:
    palette = bytes(range(256)) * 3
    alpha = bytes(range(0, 256, 2))
    return _made_by_hand(
        _largest(PNG_LIMIT), 8, 3, extra_chunks=((b"PLTE", palette), (b"tRNS", alpha))
    )


def _rotated_rgba_png() -> bytes:
    # A phone's note to turn the picture (EXIF orientation 6) in a PNG's eXIf chunk.
    exif = Image.Exif()
    exif[0x0112] = 6
    return _made_by_hand(_largest(PNG_LIMIT), 8, 6, extra_chunks=((b"eXIf", exif.tobytes()[6:]),))


def _jpeg_limit(samples_per_pixel: float | None) -> int:
    """A JPEG's limit; a progressive one's is set by the DCT samples a pixel has
    (4:2:0 colour 1.5, 4:4:4 colour 3, greyscale 1, CMYK 4)."""
    limit = avatars.MAX_PIXELS["JPEG"]
    if samples_per_pixel is None:
        return limit
    return min(limit, int(avatars.MAX_BUFFERED_JPEG_SAMPLES / samples_per_pixel))


def _jpeg(size: tuple[int, int], mode: str, **save: object) -> bytes:
    """A JPEG of one colour: the smallest file of that size."""
    picture = Image.new(mode, size, "#4a7fb0" if mode == "RGB" else 90)
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=60, **save)
    return out.getvalue()


def _webp(size: tuple[int, int], mode: str, **save: object) -> bytes:
    # A smooth gradient: compresses like a plain sky, unlike one flat colour.
    picture = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    picture.save(out, format="WEBP", **save)
    return out.getvalue()


PROGRESSIVE = {"progressive": True}
FULL_COLOUR = {"subsampling": 0}  # 4:4:4

WORST_CASES: dict[str, Callable[[], bytes]] = {
    "8-bit RGBA PNG": lambda: _made_by_hand(_largest(PNG_LIMIT), 8, 6),
    "8-bit RGBA PNG turned by EXIF": _rotated_rgba_png,
    "interlaced 8-bit RGB PNG": lambda: _made_by_hand(_largest(PNG_LIMIT), 8, 2, interlaced=True),
    "16-bit RGBA PNG": lambda: _made_by_hand(_largest(PNG_LIMIT), 16, 6),
    "widest 16-bit RGBA PNG": lambda: _made_by_hand(_widest(PNG_LIMIT), 16, 6),
    "16-bit greyscale PNG": lambda: _made_by_hand(_largest(PNG_LIMIT), 16, 0),
    "palette PNG with transparency": _palette_png_with_transparency,
    "1-bit PNG (the most compressible)": lambda: _made_by_hand(_largest(PNG_LIMIT), 1, 0),
    "baseline JPEG 4:2:0": lambda: _jpeg(_largest(_jpeg_limit(None)), "RGB"),
    "baseline JPEG 4:4:4": lambda: _jpeg(_largest(_jpeg_limit(None)), "RGB", **FULL_COLOUR),
    "baseline JPEG decoded at full scale": lambda: _jpeg(
        _widest(_jpeg_limit(None), FULL_SCALE_ROWS), "RGB", **FULL_COLOUR
    ),
    "progressive JPEG 4:2:0": lambda: _jpeg(_largest(_jpeg_limit(1.5)), "RGB", **PROGRESSIVE),
    "progressive JPEG 4:4:4": lambda: _jpeg(
        _largest(_jpeg_limit(3)), "RGB", **PROGRESSIVE, **FULL_COLOUR
    ),
    "progressive JPEG 4:4:4 decoded at half scale": lambda: _jpeg(
        _widest(_jpeg_limit(3), HALF_SCALE_ROWS), "RGB", **PROGRESSIVE, **FULL_COLOUR
    ),
    "progressive greyscale JPEG": lambda: _jpeg(_largest(_jpeg_limit(1)), "L", **PROGRESSIVE),
    "progressive CMYK JPEG": lambda: _jpeg(_largest(_jpeg_limit(4)), "CMYK", **PROGRESSIVE),
    "progressive CMYK JPEG decoded at half scale": lambda: _jpeg(
        _widest(_jpeg_limit(4), HALF_SCALE_ROWS), "CMYK", **PROGRESSIVE
    ),
    "lossless RGBA WebP": lambda: _webp(_largest(WEBP_LIMIT), "RGBA", lossless=True),
    "widest lossless RGBA WebP": lambda: _webp(_widest(WEBP_LIMIT), "RGBA", lossless=True),
    "lossy RGB WebP": lambda: _webp(_largest(WEBP_LIMIT), "RGB", quality=60, method=0),
}


@pytest.mark.parametrize("case", WORST_CASES)
def test_the_largest_accepted_upload_stays_within_the_memory_budget(
    case: str, tmp_path: Path
) -> None:
    upload = WORST_CASES[case]()
    assert len(upload) <= avatars.MAX_UPLOAD_BYTES  # a file the uploader lets through
    path = tmp_path / "upload"
    path.write_bytes(upload)
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr  # accepted, not refused
    measured = json.loads(run.stdout)
    with Image.open(path) as picture:
        size = "{:,} × {:,}".format(*picture.size)
    print(
        f"\n{case}, {size} in {len(upload):,} bytes: "
        f"+{measured['growth']:.0f} MB, {measured['seconds']:.2f} s"
    )
    assert measured["bytes"] > 0
    assert measured["growth"] <= BUDGET_MB
