"""The CSV reference (``docs/csv.md``), generated from the upload layouts. Pure.

``unitrace import docs`` writes it; a test fails when the file and the layouts disagree."""

from __future__ import annotations

from unitrace.domain.imports import LAYOUTS

INTRO = """\
# CSV imports

<!-- Generated from src/unitrace/domain/imports.py by `unitrace import docs` (or `make docs`).
     Do not edit by hand: a test compares this file with the layouts. -->

Upload a file through the API (`POST /api/v1/imports/{kind}`), the CLI
(`unitrace import KIND FILE`) or the web page *Imports*. Each kind below has a template with
its header row and an example row (`GET /api/v1/imports/templates/{kind}`,
`unitrace import template KIND`, or the link on the Imports page).

## Files

- **Encoding**: UTF-8, with or without a byte-order mark, or Windows-1252 (what Excel on
  Windows saves as "CSV"). Detected, nothing to choose.
- **Delimiter**: comma, semicolon (European Excel) or tab, detected from the header line.
  Line endings `\\n`, `\\r\\n` or `\\r`; quoted cells may hold delimiters and line breaks.
- **Header**: the first line names the columns, in any order. Names are matched ignoring
  case, spaces, hyphens and a unit in brackets (`THC (%)`, `thc-percent` and `Thc Percent`
  all match `thc_percent`); some columns accept other common names. A missing required
  column, an unknown or a repeated column is a problem.
- **Cells**: numbers use a dot as the decimal separator (`12.5`, not `12,5`); dates are
  `YYYY-MM-DD`; times are ISO 8601 with a time zone. A cell exported by unitrace with a
  leading `'` (the guard against spreadsheet formulas) is read without it.
- **Limits**: `UNITRACE_IMPORT_MAX_BYTES` (256 MiB) and `UNITRACE_IMPORT_MAX_ROWS`
  (1,000,000 rows) by default; a larger file is refused with a clear message.

## All or nothing, exactly once

The whole file is checked before anything is written, against the database too, and every
problem is reported at once with its line (1 is the header), column, value and a message
(the first 1,000 are listed, all are counted). A file with any problem changes nothing; fix
it and upload it again. A clean file is applied in one transaction.

Uploading the same file again (the same bytes), or sending the same idempotency key, answers
with the first import's result and changes nothing, also when two uploads race. A *dry run*
(`?dry_run=true`, `--dry-run`, "Check only") checks everything and changes nothing.
"""


def csv_reference() -> str:
    """The Markdown of ``docs/csv.md``: the intro, then each kind's columns."""
    parts = [INTRO]
    parts.extend(layout.documentation() for layout in LAYOUTS.values())
    return "\n".join(parts)
