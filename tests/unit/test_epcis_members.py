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


unit_epcs = st.builds(
    lambda code, gtin: epcis.unit_epc(code, gtin), st.builds(generate_code), gtins
)
container_epcs = st.builds(
    lambda code, sscc: epcis.container_epc(code, sscc),
    st.builds(generate_code),
    st.sampled_from([None, "109506000000000017", "006141410000000015"]),
)
places = st.sampled_from([None, "urn:unitrace:location:7", epcis.location_uri(3, "9506000000016")])


@given(
    epcs=st.lists(st.one_of(unit_epcs, container_epcs), min_size=1, max_size=6),
    at=times,
    offset=st.sampled_from(["+00:00", "-07:00", "+05:30", "+14:00"]),
    step=st.sampled_from(list(BizStep)),
    action=st.sampled_from(list(EventAction)),
    disposition=st.sampled_from([None, *Disposition]),
    read_point=places,
    biz_location=places,
)
def test_the_plain_event_hash_equals_the_general_one(
    epcs: list[str],
    at: dt.datetime,
    offset: str,
    step: BizStep,
    action: EventAction,
    disposition: Disposition | None,
    read_point: str | None,
    biz_location: str | None,
) -> None:
    draft = EventDraft(
        EventType.OBJECT,
        action,
        step,
        at,
        disposition,
        epcs,
        read_point=read_point,
        biz_location=biz_location,
        time_zone_offset=offset,
    )
    plain = epcis.plain_event_id(draft)
    assert plain is not None
    assert plain == epcis.event_id(epcis.to_jsonld(draft))


def test_anything_but_a_plain_event_goes_the_general_way() -> None:
    at = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    unit = epcis.unit_epc("7K3MQ9XW2D4HBR", None)
    shipped = EventDraft(
        EventType.OBJECT,
        EventAction.OBSERVE,
        BizStep.SHIPPING,
        at,
        Disposition.IN_TRANSIT,
        [unit],
        biz_transactions=[("desadv", epcis.shipment_uri(1, "SH-1"))],
    )
    packed = EventDraft(
        EventType.AGGREGATION, EventAction.ADD, BizStep.PACKING, at, None, [unit], parent=unit
    )
    odd = EventDraft(
        EventType.OBJECT, EventAction.OBSERVE, BizStep.RECEIVING, at, None, ["urn:epc:id:x:1"]
    )
    assert {epcis.plain_event_id(d) for d in (shipped, packed, odd)} == {None}
