"""Reading CSV files as people send them: encodings, delimiters, line endings, loose headers,
every problem at once; and cells that no spreadsheet evaluates."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from unitrace.domain.tabular import (
    Column,
    Layout,
    Reading,
    detect_delimiter,
    header_key,
    read_rows,
    safe_cell,
)


def _no_thc_above_total(row: dict[str, Any]) -> list[tuple[str | None, str]]:
    if row["thc_percent"] is not None and row["thc_percent"] > 100:
        return [("thc_percent", "a share cannot exceed 100 %")]
    return []


LAYOUT = Layout(
    kind="test",
    title="Test rows",
    description="Rows for the reader's tests.",
    columns=(
        Column("code", description="a unit code", example="7KQ2M9XH4T1R3B", max_length=20),
        Column("thc_percent", "decimal", required=False, unit="%", minimum=Decimal(0)),
        Column("sold_on", "date", required=False),
        Column("quantity", "integer", required=False, minimum=1),
        Column("action", choices=("restock", "quarantine"), required=False),
        Column("sold_at", "datetime", required=False),
    ),
    row_checks=(_no_thc_above_total,),
)


def read(
    data: bytes, *, max_rows: int = 1000, max_bytes: int | None = None
) -> tuple[list[Any], Reading]:
    reading = Reading()
    rows = list(
        read_rows(io.BytesIO(data), LAYOUT, reading, max_rows=max_rows, max_bytes=max_bytes)
    )
    return rows, reading


def test_utf8_with_bom_semicolons_and_crlf_are_read() -> None:
    data = "\ufeffCode;THC (%);Sold On\r\nAAA;21.5;2026-11-02\r\nBBB;;\r\n".encode()
    rows, reading = read(data)
    assert reading.ok, reading.problems
    assert (reading.encoding, reading.delimiter) == ("utf-8-sig", ";")
    assert rows == [
        (
            2,
            {
                "code": "AAA",
                "thc_percent": Decimal("21.5"),
                "sold_on": dt.date(2026, 11, 2),
                "quantity": None,
                "action": None,
                "sold_at": None,
            },
        ),
        (
            3,
            {
                "code": "BBB",
                "thc_percent": None,
                "sold_on": None,
                "quantity": None,
                "action": None,
                "sold_at": None,
            },
        ),
    ]


def test_windows_1252_tabs_and_old_mac_line_ends_are_read() -> None:
    data = "code\taction\rCR\xc8ME\tRestock\r".encode("cp1252")
    rows, reading = read(data)
    assert reading.ok, reading.problems
    assert (reading.encoding, reading.delimiter) == ("cp1252", "\t")
    assert rows[0][1]["code"] == "CRÈME" and rows[0][1]["action"] == "restock"


def test_every_problem_is_reported_with_its_row_column_and_value() -> None:
    data = (
        b"code,thc_percent,quantity,sold_at,action\n"
        b'AAA,"12,5",1,2026-11-02T10:00:00Z,restock\n'
        b",5,0,2026-11-02 10:00,quarantine\n"
        b'"multi\nline",101,2,,destroy\n'
        b"DDD,7,1.000,,\n"
    )
    rows, reading = read(data)
    assert rows == []
    found = {(p.line, p.column): p.message for p in reading.problems}
    assert found == {
        (2, "thc_percent"): "`12,5` is not a number: use a dot as decimal separator",
        (3, "code"): "is required",
        (3, "quantity"): "`0` is below the minimum 1",
        (3, "sold_at"): "`2026-11-02 10:00` has no time zone: add one, e.g. `Z` or `-08:00`",
        (4, "action"): "`destroy` is not one of: restock, quarantine",
        (6, "quantity"): "`1.000` is not a whole number: write it without separators",
    }
    assert str(reading.problems[0]) == (
        "row 2, column `thc_percent`: `12,5` is not a number: use a dot as decimal separator"
    )


def test_a_row_rule_runs_once_its_cells_are_clean() -> None:
    rows, reading = read(b"code,thc_percent\nAAA,101\n")
    assert rows == [] and [(p.line, p.column) for p in reading.problems] == [(2, "thc_percent")]


def test_headers_are_matched_loosely_and_bad_headers_are_named() -> None:
    assert header_key(" THC  % ") == "thc_percent"
    assert header_key("Sold-On") == "sold_on"
    assert header_key("Quantity (units)") == "quantity"
    _, reading = read(b"Code,Code,colour,quantity\nA,B,C,1\n")
    messages = [(p.line, p.column, p.message.split(";")[0]) for p in reading.problems]
    assert messages == [
        (1, "Code", "repeats column 1 (code)"),
        (1, "colour", "unknown column"),
    ]
    _, missing = read(b"quantity\n1\n")
    assert [(p.column, p.message) for p in missing.problems] == [
        ("code", "required column is missing")
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty: it needs a header row"),
        (b"\r\n", "the file is empty: it needs a header row"),
        (b"code\r\n\r\n", "the file has a header but no rows"),
        (b"code\nA\nB\nC\n", "too many rows: at most 2 per file"),
        (b"code\nA,B\n", "has 2 cells but the header has 1"),
        (b'code\n"A\n', "the file is not valid CSV here: unexpected end of data"),
    ],
)
def test_empty_short_long_and_broken_files(data: bytes, message: str) -> None:
    _, reading = read(data, max_rows=2)
    assert [p.message for p in reading.problems] == [message]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    _, reading = read(b"code\n" + b"A\n" * 100, max_bytes=50)
    assert reading.problems[0].message == "the file has 205 bytes; at most 50"


def test_the_delimiter_comes_from_the_header() -> None:
    assert detect_delimiter("a;b;c") == ";"
    assert detect_delimiter("a,b;c") == ","  # a tie goes to the comma
    assert detect_delimiter("single") == ","


def test_the_template_and_its_documentation_name_every_column() -> None:
    template = LAYOUT.template()
    header, example = template.split("\r\n")[:2]
    assert header == "code,thc_percent,sold_on,quantity,action,sold_at"
    assert example.startswith("7KQ2M9XH4T1R3B,")
    rows, reading = read(template.encode())
    assert reading.ok and rows[0][1]["code"] == "7KQ2M9XH4T1R3B"
    doc = LAYOUT.documentation()
    for column in LAYOUT.columns:
        assert f"| `{column.name}` |" in doc
    assert "one of `restock`, `quarantine`" in doc


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_cells_that_start_like_formulas_are_neutralised_and_read_back_unchanged(text: str) -> None:
    cell = safe_cell(text)
    assert cell == "'" + text
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["code"], [cell]])
    rows, reading = read(out.getvalue().encode())
    assert reading.ok, reading.problems
    assert rows[0][1]["code"] == text


cells = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s.strip())


@settings(max_examples=80, deadline=None)
@given(
    codes=st.lists(cells, min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_any_exported_file_reads_back_the_same(
    codes: list[str], delimiter: str, encoding: str, newline: str
) -> None:
    if encoding == "cp1252":
        codes = [c.encode("cp1252", "replace").decode("cp1252") for c in codes]
        codes = [c for c in codes if c.strip() == c and c.strip()] or ["X"]
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(["code", "quantity"])  # two columns: the header shows the delimiter
    writer.writerows([[safe_cell(c), ""] for c in codes])
    data = out.getvalue().encode(encoding)
    if encoding == "cp1252":
        # Windows-1252 bytes that are also valid UTF-8 are read as UTF-8: ambiguous
        with contextlib.suppress(UnicodeDecodeError):
            assume(data.decode("utf-8") == out.getvalue())
    rows, reading = read(data, max_rows=100)
    assert reading.ok, reading.problems
    assert [r["code"] for _, r in rows] == codes
