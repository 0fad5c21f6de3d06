"""CSV merge files for label software (BarTender, ZebraDesigner, NiceLabel).

One row per unit, one column per field a label designer can place. Choices, and why:

* **UTF-8 with a byte-order mark.** BarTender and NiceLabel read UTF-8, and both (like Excel,
  where people open these files first) recognise it from the BOM; without it they fall back to
  the Windows code page and "Crème" turns into "CrÃ¨me". Open ``out`` with
  ``encoding="utf-8"`` (not ``utf-8-sig``: the BOM is written here) and ``newline=""``.
* **CRLF line ends**, RFC 4180 and what every Windows tool expects.
* **No formula injection**: every cell goes through :func:`safe_cell`, since brand and product
  text are typed by users and the file is routinely opened in a spreadsheet.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable
from itertools import islice
from typing import TextIO

from unitrace.domain.labels import LabelFace, LabelUnit

__all__ = ["COLUMNS", "safe_cell", "write_label_csv"]

COLUMNS = (
    "code",
    "human_code",
    "qr_payload",
    "brand",
    "product",
    "strain",
    "net_content",
    "lot",
    "packaged_on",
    "expires_on",
    "thc",
    "cbd",
    "warnings",
)
# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_BOM = "\ufeff"
_CHUNK = 10_000


def safe_cell(value: object) -> str:
    """``value`` as CSV cell text that no spreadsheet evaluates.

    ``None`` is empty and dates are ISO 8601; text that starts like a formula gets a leading
    apostrophe, which spreadsheets show as text and do not print.
    """
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _face_cells(face: LabelFace) -> list[str]:
    values = (
        face.brand,
        face.product_name,
        face.strain,
        face.net_content,
        face.lot,
        face.packaged_on,
        face.expires_on,
        face.thc,
        face.cbd,
        face.warnings,
    )
    return [safe_cell(v) for v in values]


def write_label_csv(
    out: TextIO,
    face: LabelFace,
    units: Iterable[LabelUnit],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the header and one row per unit to ``out``; return the number of rows.

    Streams: ``units`` may be a generator of millions; memory stays constant.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    out.write(_BOM)
    writer.writerow(COLUMNS)
    static = _face_cells(face)  # the same on every row: made safe once
    it = iter(units)
    count = 0
    while chunk := list(islice(it, _CHUNK)):
        writer.writerows(
            [
                [safe_cell(u.code), safe_cell(u.human_code), safe_cell(u.payload), *static]
                for u in chunk
            ]
        )
        count += len(chunk)
        if progress is not None:
            progress(count)
    return count
