"""docs/csv.md is what the upload layouts generate (``unitrace import docs -o docs/csv.md``)."""

from __future__ import annotations

from pathlib import Path

from unitrace.domain.csv_reference import csv_reference
from unitrace.domain.imports import LAYOUTS

DOC = Path(__file__).parents[2] / "docs" / "csv.md"


def test_docs_csv_md_is_current_with_the_layouts() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == csv_reference(), "run `make docs` (unitrace import docs -o docs/csv.md)"
    for kind, layout in LAYOUTS.items():
        assert f"(`{kind}`)" in text
        assert all(f"| `{column.name}` |" in text for column in layout.columns)
