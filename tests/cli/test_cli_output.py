"""Terminal output helpers."""

from __future__ import annotations

import pytest

from unitrace.cli.output import code_column, print_table

COLUMNS = (code_column(), "Kind")  # declared once, as the command modules do


def test_a_table_shows_only_its_own_rows_when_columns_are_declared_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_table(COLUMNS, [("AAAAAAAAAAAAAA", "case")])
    first = capsys.readouterr().out
    print_table(COLUMNS, [("BBBBBBBBBBBBBB", "pallet")])
    second = capsys.readouterr().out

    assert "AAAAAAAAAAAAAA" in first
    assert "BBBBBBBBBBBBBB" in second and "AAAAAAAAAAAAAA" not in second
