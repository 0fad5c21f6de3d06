"""The EPCIS 2.0 schema harness: GS1's examples pass, broken documents fail and say why."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.epcis import EXAMPLES, assert_valid_epcis, epcis_errors

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.jsonld"))
OBJECT_EVENT_DOCUMENT = EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld"


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _first_event(document: dict[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = document["epcisBody"]["eventList"][0]
    return event


@pytest.fixture
def document() -> dict[str, Any]:
    return copy.deepcopy(_load(OBJECT_EVENT_DOCUMENT))


def test_every_official_example_is_kept() -> None:
    assert len(EXAMPLE_FILES) == 47


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda path: path.stem)
def test_an_official_example_is_valid(path: Path) -> None:
    assert_valid_epcis(_load(path))


def test_a_single_event_with_its_own_context_is_valid(document: dict[str, Any]) -> None:
    event = {"@context": document["@context"], **_first_event(document)}
    assert_valid_epcis(event)


def test_a_single_event_needs_a_context(document: dict[str, Any]) -> None:
    with pytest.raises(AssertionError, match=r"'@context' is a required property"):
        assert_valid_epcis(_first_event(document))


def _first_line(document: dict[str, Any]) -> str:
    """The headline error of the failure message."""
    with pytest.raises(AssertionError) as failure:
        assert_valid_epcis(document)
    lines = str(failure.value).splitlines()
    assert lines[0].startswith("not valid EPCIS 2.0 JSON (")
    return lines[1].strip()


def test_a_document_without_type_fails_on_type(document: dict[str, Any]) -> None:
    del document["type"]
    assert _first_line(document) == "$: 'type' is a required property"


def test_an_event_without_type_fails_on_type(document: dict[str, Any]) -> None:
    del _first_event(document)["type"]
    assert _first_line(document) == "$.epcisBody.eventList[0]: 'type' is a required property"


@pytest.mark.parametrize(
    "event_time",
    [
        "yesterday",
        "2005-13-11T11:30:47.0Z",  # month 13
        "2005-07-11T25:30:47.0Z",  # hour 25
        "2005-07-11T11:30:47",  # no time zone: RFC 3339 requires one
        "2005-07-11",  # a date is not a date-time
    ],
)
def test_a_malformed_event_time_fails_the_date_time_format(
    document: dict[str, Any], event_time: str
) -> None:
    _first_event(document)["eventTime"] = event_time
    assert _first_line(document) == (
        f"$.epcisBody.eventList[0].eventTime: {event_time!r} is not a 'date-time'"
    )


def test_an_unknown_action_fails_with_the_allowed_actions(document: dict[str, Any]) -> None:
    _first_event(document)["action"] = "REMOVE"
    assert _first_line(document) == (
        "$.epcisBody.eventList[0].action: 'REMOVE' is not one of ['OBSERVE', 'ADD', 'DELETE']"
    )


def test_an_epc_that_is_not_a_uri_fails_the_uri_format(document: dict[str, Any]) -> None:
    _first_event(document)["epcList"] = ["0614141.107346.2017"]
    assert _first_line(document) == (
        "$.epcisBody.eventList[0].epcList[0]: '0614141.107346.2017' is not a 'uri'"
    )


def test_a_broken_document_reports_at_most_ten_errors_and_counts_the_rest(
    document: dict[str, Any],
) -> None:
    del document["type"]
    errors = epcis_errors(document)
    assert len(errors) > 10
    with pytest.raises(AssertionError) as failure:
        assert_valid_epcis(document)
    message = str(failure.value)
    assert f"({len(errors)} errors)" in message
    assert message.endswith(f"… and {len(errors) - 10} more")
    assert len(message.splitlines()) == 1 + 10 + 1


def test_error_lines_are_cut_so_a_whole_event_is_not_dumped(document: dict[str, Any]) -> None:
    _first_event(document)["action"] = "REMOVE"
    errors = epcis_errors(document)
    assert len(errors) == 2
    assert all(len(re.sub(r"^[^:]*: ", "", line)) <= 200 for line in errors)


def test_a_valid_document_has_no_errors(document: dict[str, Any]) -> None:
    assert epcis_errors(document) == []
