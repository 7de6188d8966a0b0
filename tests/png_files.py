"""PNG files written by hand, for what Pillow cannot write: 16-bit colour, interlacing, and
pictures of tens of megapixels made row by row without holding their pixels in memory."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

# Samples per pixel of each PNG colour type: grey, RGB, palette, grey + alpha, RGBA.
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7 passes: first column, first row, column step, row step.
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png(
    width: int,
    height: int,
    bit_depth: int,
    colour_type: int,
    row: Callable[[int, int], bytes],
    *,
    interlaced: bool = False,
    extra_chunks: tuple[tuple[bytes, bytes], ...] = (),
) -> bytes:
    """A PNG whose row ``y`` of a pass ``w`` pixels wide holds ``row(y, w)`` (raw samples)."""
    header = struct.pack(
        ">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 1 if interlaced else 0
    )
    passes = _ADAM7 if interlaced else ((0, 0, 1, 1),)
    packer = zlib.compressobj(9)
    parts = []
    for left, top, step_x, step_y in passes:
        pass_width = -(-(width - left) // step_x)
        pass_height = -(-(height - top) // step_y)
        if pass_width <= 0 or pass_height <= 0:
            continue
        for y in range(pass_height):
            parts.append(packer.compress(b"\x00" + row(y, pass_width)))  # filter type 0: none
    parts.append(packer.flush())
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            *(_chunk(kind, body) for kind, body in extra_chunks),
            _chunk(b"IDAT", b"".join(parts)),
            _chunk(b"IEND", b""),
        ]
    )


def row_bytes(width: int, bit_depth: int, colour_type: int) -> int:
    """Bytes of one row of raw samples."""
    return -(-width * CHANNELS[colour_type] * bit_depth // 8)
