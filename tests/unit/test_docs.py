"""Documentation stays true: every setting is documented."""

from __future__ import annotations

from pathlib import Path

from unitrace.config import Settings

ROOT = Path(__file__).parents[2]


def test_every_setting_is_documented_in_docs_settings() -> None:
    text = (ROOT / "docs" / "settings.md").read_text()
    missing = [name for name in Settings.model_fields if f"`UNITRACE_{name.upper()}`" not in text]
    assert missing == []


def test_every_documented_setting_exists() -> None:
    text = (ROOT / "docs" / "settings.md").read_text()
    table = text.split("Test and benchmark variables")[0]
    documented = {
        line.split("`")[1].removeprefix("UNITRACE_").lower()
        for line in table.splitlines()
        if line.startswith("| `UNITRACE_")
    }
    assert documented == set(Settings.model_fields)
