"""EPCIS 2.0 JSON Schema validation for tests: ``assert_valid_epcis(document)``.

Validates against GS1's official ``EPCIS-JSON-Schema.json`` (a draft-07 schema), kept in
``tests/data/gs1-epcis/`` with its provenance. The schema has no external ``$ref``, so nothing
is fetched. Its ``format`` keywords (``date-time``, ``uri``) are enforced: jsonschema checks a
format only when the library behind it is installed (the ``format-nongpl`` extra), so a missing
one is an error here rather than a silently skipped check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

EPCIS_DATA = Path(__file__).parent / "data" / "gs1-epcis"
SCHEMA_PATH = EPCIS_DATA / "EPCIS-JSON-Schema.json"
EXAMPLES = EPCIS_DATA / "examples"

# Errors listed in one failure message; a broken document can produce hundreds.
_MAX_REPORTED = 10
# A failed composite keyword quotes the whole instance; a line needs only its start.
_MAX_MESSAGE_CHARS = 200
_COMPOSITE = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "then", "else"})

__all__ = ["EPCIS_DATA", "EXAMPLES", "SCHEMA_PATH", "assert_valid_epcis", "epcis_errors"]


def _formats(node: Any) -> Iterator[str]:
    """Every value of a ``format`` keyword anywhere in a schema."""
    if isinstance(node, dict):
        if isinstance(node.get("format"), str):
            yield node["format"]
        for value in node.values():
            yield from _formats(value)
    elif isinstance(node, list):
        for value in node:
            yield from _formats(value)


@cache
def _validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    if cls is not Draft7Validator:
        raise RuntimeError(f"EPCIS schema declares {schema.get('$schema')!r}; expected draft-07")
    cls.check_schema(schema)
    checker = cls.FORMAT_CHECKER
    unchecked = sorted(set(_formats(schema)) - set(checker.checkers))
    if unchecked:
        raise RuntimeError(
            f"jsonschema cannot check the formats {unchecked} the EPCIS schema uses; "
            "install jsonschema[format-nongpl]"
        )
    return Draft7Validator(schema, format_checker=checker)


def _rank(error: ValidationError) -> tuple[bool, int, bool, str, str]:
    """Most telling first: a concrete keyword over a composite one, deep over shallow."""
    return (
        error.validator in _COMPOSITE,
        -len(error.absolute_path),
        error.validator != "required",
        error.json_path,
        error.message,
    )


def _line(error: ValidationError) -> str:
    message = error.message
    if len(message) > _MAX_MESSAGE_CHARS:
        message = message[: _MAX_MESSAGE_CHARS - 1] + "…"
    return f"{error.json_path}: {message}"


def epcis_errors(document: dict[str, Any]) -> list[str]:
    """Return ``"<JSON path>: <message>"`` per schema violation, most telling first; [] if valid.

    The first line is jsonschema's ``best_match`` among errors of concrete keywords
    (``required``, ``enum``, ``format``…) rather than composites, which quote the whole event.
    The schema picks the event shape with ``if``/``then`` on ``type``, so one mistake can fail
    several shapes and repeat below it.
    """
    errors = list(_validator().iter_errors(document))
    if not errors:
        return []
    concrete = [error for error in errors if error.validator not in _COMPOSITE]
    lines = [_line(best_match(concrete or errors))]
    for error in sorted(errors, key=_rank):
        line = _line(error)
        if line not in lines:
            lines.append(line)
    return lines


def assert_valid_epcis(document: dict[str, Any]) -> None:
    """Raise ``AssertionError`` listing the violations (the first ten) unless ``document``
    is valid EPCIS 2.0 JSON (a document, a query document or a single event)."""
    errors = epcis_errors(document)
    if errors:
        shown = errors[:_MAX_REPORTED]
        more = len(errors) - len(shown)
        listing = "\n  ".join(shown) + (f"\n  … and {more} more" if more else "")
        raise AssertionError(f"not valid EPCIS 2.0 JSON ({len(errors)} errors):\n  {listing}")
