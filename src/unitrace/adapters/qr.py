"""QR encoding with zxing-cpp: a unit's payload to a matrix of modules.

zxing-cpp encodes in C++ (~5,000 codes/s on one core here, about 15× pure-Python encoders);
it is the one QR encoder every renderer and the pre-flight check share, so what is checked
is what is printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import zxingcpp

from unitrace.domain.labels import QUIET_ZONE_MODULES, LabelError

EC_LEVELS = ("L", "M", "Q", "H")
_QR = zxingcpp.BarcodeFormat.QRCode
# In zxing-cpp's raster a dark module is 0 and a light one 255.
DARK_RUN = re.compile(rb"\x00+")
_ONE_RUN = re.compile(rb"\x01+")
_DARK_TO_ONE = bytes([1] + [0] * 255)


@dataclass(frozen=True)
class QrMatrix:
    """A QR symbol without its quiet zone: ``rows[y][x]`` is 1 for a dark module, 0 for light."""

    size: int
    rows: tuple[bytes, ...]

    def runs(self) -> Iterator[tuple[int, int, int]]:
        """Horizontal runs of dark modules as ``(row, column, length)``, top row first."""
        for y, row in enumerate(self.rows):
            for match in _ONE_RUN.finditer(row):
                start, end = match.span()
                yield y, start, end - start


def qr_raster(payload: str, ec_level: str = "M") -> tuple[int, bytes]:
    """The symbol's size in modules and its raster *with* the quiet zone, one byte a module.

    Each row is ``size + 2 * QUIET_ZONE_MODULES`` bytes, 0 for dark and 255 for light. The
    light margin keeps a dark run from wrapping from one row to the next, which is what lets
    :func:`raster_runs` find all runs with one regular-expression scan — the fast path the
    PDF renderer uses for every label.
    """
    if ec_level not in EC_LEVELS:
        raise LabelError(f"QR error-correction level must be one of L, M, Q, H; got {ec_level!r}")
    try:
        symbol = zxingcpp.create_barcode(payload, _QR, ec_level=ec_level)
    except ValueError as exc:
        raise LabelError(f"cannot encode {payload[:60]!r} as a QR code: {exc}") from None
    image = symbol.to_image(scale=1, add_quiet_zones=True)
    side: int = image.shape[0]
    return side - 2 * QUIET_ZONE_MODULES, memoryview(image).tobytes()  # type: ignore[arg-type]


def raster_runs(size: int, raster: bytes) -> Iterator[tuple[int, int, int]]:
    """Dark runs ``(row, column, length)`` of a :func:`qr_raster`, in symbol coordinates."""
    stride = size + 2 * QUIET_ZONE_MODULES
    for match in DARK_RUN.finditer(raster):
        start, end = match.span()
        row, column = divmod(start, stride)
        yield row - QUIET_ZONE_MODULES, column - QUIET_ZONE_MODULES, end - start


def encode_qr(payload: str, ec_level: str = "M") -> QrMatrix:
    """Encode ``payload`` (mask and version chosen by zxing-cpp); raises ``LabelError``."""
    size, raster = qr_raster(payload, ec_level)
    stride = size + 2 * QUIET_ZONE_MODULES
    dark = raster.translate(_DARK_TO_ONE)
    rows = tuple(
        dark[start + QUIET_ZONE_MODULES : start + QUIET_ZONE_MODULES + size]
        for start in range(
            QUIET_ZONE_MODULES * stride, (QUIET_ZONE_MODULES + size) * stride, stride
        )
    )
    return QrMatrix(size, rows)
