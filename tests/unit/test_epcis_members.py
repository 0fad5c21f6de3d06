"""The event hash of a commissioning, computed without listing its units, is the event hash."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unitrace.domain import epcis
from unitrace.domain.codes import generate_code
from unitrace.domain.epcis import EventDraft
from unitrace.domain.model import BizStep, Disposition, EventAction, EventType

codes = st.lists(st.builds(generate_code), min_size=1, max_size=40, unique=True)
gtins = st.sampled_from([None, "09506000134352", "00614141000012"])
times = st.datetimes(
    min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=dt.datetime(2099, 1, 1),  # noqa: DTZ001
    timezones=st.just(dt.UTC),
)


def commissioning(at: dt.datetime, epcs: list[str], where: str | None) -> dict[str, object]:
    draft = EventDraft(
        EventType.OBJECT,
        EventAction.ADD,
        BizStep.COMMISSIONING,
        at,
        Disposition.ACTIVE,
        epcs,
        read_point=where,
        biz_location=where,
        ilmd={"lotNumber": "GV-2611-A", "itemExpirationDate": "2027-11-24"},
    )
    return epcis.to_jsonld(draft)


@given(codes=codes, gtin=gtins, at=times, where=st.sampled_from([None, "urn:unitrace:location:7"]))
def test_members_event_id_equals_the_hash_of_the_full_event(
    codes: list[str], gtin: str | None, at: dt.datetime, where: str | None
) -> None:
    prefix = epcis.unit_epc("", gtin)
    full = commissioning(at, [prefix + code for code in codes], where)
    without = commissioning(at, [], where)
    assert epcis.members_event_id(without, prefix, reversed(codes)) == epcis.event_id(full)


def test_members_event_id_refuses_what_the_canonical_form_would_change() -> None:
    event = commissioning(dt.datetime(2026, 11, 24, tzinfo=dt.UTC), [], None)
    with pytest.raises(ValueError, match="kept as it is"):
        epcis.members_event_id(event, "https://example.com/01/09506000134352/21/", ["A1"])
    with pytest.raises(ValueError, match=r"\[0-9A-Z\]"):
        epcis.members_event_id(event, epcis.unit_epc("", None), ["not a code"])
