"""The CSV merge file for label software: safe cells, a clean round trip, Excel-friendly bytes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterator

import pytest

from unitrace.adapters.label_csv import COLUMNS, safe_cell, write_label_csv
from unitrace.domain.codes import generate_codes
from unitrace.domain.labels import LabelFace, LabelTemplate, LabelUnit, QrForm, qr_payload

FACE = LabelFace(
    LabelTemplate.FINISHED_GOODS,
    "Crème Brûlée Farms",
    'Blue Dream "Reserve", 3.5 g',
    strain="Blue Dream",
    net_content="3.5 g",
    lot="LOT-2026-11",
    packaged_on=dt.date(2026, 11, 20),
    expires_on=dt.date(2027, 11, 20),
    thc="Total THC 21.5 %",
    cbd=None,
    warnings="Keep out of reach of children.\nFor adults 21 and older.",
)


def units(n: int) -> list[LabelUnit]:
    codes = generate_codes(n, token_bytes=random.Random(n).randbytes)
    return [
        LabelUnit(
            c,
            qr_payload(
                "https://u.example", c, form=QrForm.DIGITAL_LINK, gtin="09506000134352", lot="L1"
            ),
        )
        for c in codes
    ]


def write(face: LabelFace, batch: list[LabelUnit]) -> str:
    out = io.StringIO(newline="")
    assert write_label_csv(out, face, batch) == len(batch)
    return out.getvalue()


def read(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("https://evil.example","click")',
        "+1",
        "-2",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "=cmd|' /C calc'!A0",
    ],
)
def test_a_formula_like_value_is_neutralized_with_a_leading_apostrophe(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Blue Dream", "3.5 g", "a=b", "1+1", "", " =1"])
def test_ordinary_text_is_left_alone(value: str) -> None:
    assert safe_cell(value) == value


def test_none_is_empty_and_dates_are_iso() -> None:
    assert safe_cell(None) == ""
    assert safe_cell(dt.date(2026, 11, 20)) == "2026-11-20"
    assert safe_cell(21.5) == "21.5"


def test_the_file_reads_back_to_the_same_values() -> None:
    batch = units(20)
    rows = read(write(FACE, batch))
    assert [tuple(rows[0])] == [COLUMNS]
    assert len(rows) == 20
    for row, unit in zip(rows, batch, strict=True):
        assert row["code"] == unit.code
        assert row["human_code"] == unit.human_code
        assert row["qr_payload"] == unit.payload
        assert row["brand"] == "Crème Brûlée Farms"
        assert row["product"] == 'Blue Dream "Reserve", 3.5 g'
        assert row["packaged_on"] == "2026-11-20" and row["expires_on"] == "2027-11-20"
        assert row["cbd"] == ""
        assert row["warnings"] == FACE.warnings


def test_user_text_cannot_smuggle_a_formula_into_the_sheet() -> None:
    face = LabelFace(
        LabelTemplate.FINISHED_GOODS,
        '=HYPERLINK("https://evil.example","Brand")',
        "+Product",
        strain="-Strain",
        lot="@Lot",
        thc="\tTHC",
        warnings="\rWarning",
    )
    (row,) = read(write(face, units(1)))
    assert row["brand"] == "'" + face.brand
    assert row["product"] == "'+Product"
    assert row["strain"] == "'-Strain"
    assert row["lot"] == "'@Lot"
    assert row["thc"] == "'\tTHC"
    assert row["warnings"] == "'\rWarning"
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_the_bytes_are_utf8_with_a_bom_and_crlf_line_ends() -> None:
    raw = write(FACE, units(2)).encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbfcode,human_code,qr_payload,")
    assert raw.count(b"\r\n") == 3  # header and two rows; the newline inside a cell is quoted
    assert "Crème".encode() in raw


def test_rows_stream_and_report_progress() -> None:
    seen: list[int] = []

    def generated() -> Iterator[LabelUnit]:
        yield from units(25_000)

    out = io.StringIO(newline="")
    assert write_label_csv(out, FACE, generated(), progress=seen.append) == 25_000
    assert seen == [10_000, 20_000, 25_000]


def test_no_units_give_a_header_only_file() -> None:
    assert write(FACE, []) == "\ufeff" + ",".join(COLUMNS) + "\r\n"
