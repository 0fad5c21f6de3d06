"""docs/cli.md documents every command of the CLI, and every option of each command."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from unitrace.cli.main import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
HEADING = re.compile(r"^#+ `(unitrace [a-z -]+?)`", re.MULTILINE)


def _leaves(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """(``unitrace noun verb``, command) for every runnable command, walking the click tree."""
    children = getattr(command, "commands", None)
    if not children:
        yield " ".join(path), command
        return
    for name, child in children.items():
        if not child.hidden:
            yield from _leaves(child, (*path, name))


COMMANDS = dict(_leaves(typer.main.get_command(app), ("unitrace",)))


def _sections() -> dict[str, str]:
    """Each ``### `unitrace noun verb` `` heading of docs/cli.md and the text under it."""
    text = DOCS.read_text(encoding="utf-8")
    matches = list(HEADING.finditer(text))
    ends = [m.start() for m in matches[1:]] + [len(text)]
    return {m.group(1): text[m.end() : end] for m, end in zip(matches, ends, strict=True)}


def test_the_command_tree_is_walked() -> None:
    assert {"unitrace db upgrade", "unitrace units commission", "unitrace serve"} <= set(COMMANDS)


def test_every_cli_command_is_mentioned_in_docs_cli_md() -> None:
    text = DOCS.read_text(encoding="utf-8")

    missing = [path for path in COMMANDS if path not in text]

    assert not missing, f"document these in docs/cli.md: {missing}"


def test_the_global_options_are_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    options = [name for p in typer.main.get_command(app).params for name in p.opts]

    assert options  # --database-url, --debug, --version
    assert [name for name in options if name != "--help" and name not in text] == []


def test_docs_cli_md_has_no_section_for_a_command_that_does_not_exist() -> None:
    assert set(_sections()) - set(COMMANDS) == set()


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_option_is_documented_in_its_commands_section(path: str) -> None:
    section = _sections().get(path)
    assert section is not None, f"docs/cli.md has no heading for `{path}`"
    options = [
        name
        for param in COMMANDS[path].params
        if not getattr(param, "hidden", False)
        for name in [*param.opts, *getattr(param, "secondary_opts", [])]
        if name.startswith("--") and name != "--help"
    ]

    missing = [name for name in options if name not in section]

    assert not missing, f"document {missing} under `{path}` in docs/cli.md"
    assert "```" in section, f"give `{path}` an example in docs/cli.md"
