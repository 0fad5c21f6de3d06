"""Canonical CBV 2.0 event hashes per second, against bare SHA-256 of the same pre-hash strings.

``event_hash_per_s`` hashes the events unitrace itself records, built the way the services
build them (``domain.epcis.to_jsonld`` of an ``EventDraft``): sales, returns, shipping and
receiving with business transactions, sources and destinations, packing a case, a small
commissioning with ILMD, destruction — the throughput that matters for the event log.
``event_hash_reference_per_s`` cycles the 43 reference events of tests/data/epcis-event-hash
(every event type, sensor data, extensions, EPC URNs that need converting): the general path.
The baseline hashes the already canonical pre-hash strings, so the ratio is the cost of
canonicalisation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from unitrace.domain import epcis
from unitrace.domain.epcis import EventDraft
from unitrace.domain.event_hash import compute_prehash, event_hash
from unitrace.domain.model import BizStep, Disposition, EventAction, EventType

EVENTS = 50_000
ROUNDS = 3
TARGET_PER_S = 20_000
VECTORS = Path(__file__).parent.parent / "tests" / "data" / "epcis-event-hash"


def _reference_events() -> list[tuple[dict[str, Any], object]]:
    events: list[tuple[dict[str, Any], object]] = []
    for path in sorted(VECTORS.glob("*.jsonld")):
        document = json.loads(path.read_text(encoding="utf-8"))
        body = document["epcisBody"]
        found = body["queryResults"]["resultsBody"] if "queryResults" in body else body
        events.extend((event, document["@context"]) for event in found["eventList"])
    return events


# The shape of event unitrace records most: one unit shipped between two organisations.
TYPICAL_EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2026-11-24T13:00:00.123+01:00",
    "eventTimeZoneOffset": "+01:00",
    "epcList": ["https://id.gs1.org/01/09506000134352/21/AB12CD34EF"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "https://id.gs1.org/414/9506000000016"},
    "bizLocation": {"id": "https://id.gs1.org/414/9506000000016"},
    "bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:95060:S1"}],
    "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/9506000000016"}],
    "destinationList": [
        {"type": "owning_party", "destination": "https://id.gs1.org/417/9506000000023"}
    ],
}


def _recorded_events() -> list[dict[str, Any]]:
    """One event of each kind unitrace records, with varying codes and times."""
    at = dt.datetime(2026, 11, 24, 13, 0, 0, 123000, tzinfo=dt.UTC)
    store = epcis.location_uri(7, "9506000000016")
    plant = epcis.location_uri(1, None)
    unit = [epcis.unit_epc(f"7K3MQ9XW2D4HB{i % 10}", "09506000134352") for i in range(100)]
    case = epcis.container_epc("0A1B2C3D4E5F6G", None)
    pallet = epcis.container_epc("1A1B2C3D4E5F6G", "109506000000000017")
    trade = [("desadv", epcis.shipment_uri(1, "SH-4K7QX2M9"))]
    parties = [("owning_party", epcis.party_uri(1)), ("possessing_party", epcis.party_uri(1))]
    to = [("owning_party", epcis.party_uri(3)), ("location", store)]
    o, agg = EventType.OBJECT, EventType.AGGREGATION
    drafts = [
        EventDraft(
            o,
            EventAction.OBSERVE,
            BizStep.RETAIL_SELLING,
            at,
            Disposition.RETAIL_SOLD,
            unit[:1],
            read_point=store,
            biz_location=store,
        ),
        EventDraft(
            o,
            EventAction.OBSERVE,
            BizStep.RETAIL_SELLING,
            at,
            Disposition.RETAIL_SOLD,
            unit[1:4],
            read_point=store,
            biz_location=store,
        ),
        EventDraft(
            o,
            EventAction.OBSERVE,
            BizStep.SHIPPING,
            at,
            Disposition.IN_TRANSIT,
            [pallet],
            read_point=plant,
            biz_location=plant,
            biz_transactions=trade,
            sources=parties,
            destinations=to,
        ),
        EventDraft(
            o,
            EventAction.OBSERVE,
            BizStep.RECEIVING,
            at,
            Disposition.SELLABLE_ACCESSIBLE,
            [pallet],
            read_point=store,
            biz_location=store,
            biz_transactions=trade,
            sources=parties,
            destinations=to,
        ),
        EventDraft(
            agg,
            EventAction.ADD,
            BizStep.PACKING,
            at,
            None,
            unit[:10],
            parent=case,
            read_point=plant,
            biz_location=plant,
        ),
        EventDraft(
            o,
            EventAction.ADD,
            BizStep.COMMISSIONING,
            at,
            Disposition.ACTIVE,
            unit,
            read_point=plant,
            biz_location=plant,
            ilmd={"lotNumber": "GV-2611-A", "itemExpirationDate": "2027-11-24"},
        ),
        EventDraft(
            o,
            EventAction.OBSERVE,
            BizStep.RECEIVING,
            at,
            Disposition.RETURNED,
            unit[4:5],
            read_point=store,
            biz_location=store,
        ),
        EventDraft(o, EventAction.DELETE, BizStep.DESTROYING, at, Disposition.DESTROYED, unit[5:7]),
    ]
    # The mix a store-heavy day produces: mostly single-unit sales.
    weights = [6, 2, 1, 1, 1, 1, 1, 1]
    return [epcis.to_jsonld(d) for d, w in zip(drafts, weights, strict=True) for _ in range(w)]


def _best(fn: Callable[[], object]) -> float:
    timings = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    reference = _reference_events()
    workload = [reference[i % len(reference)] for i in range(EVENTS)]
    recorded = _recorded_events()
    ours = [recorded[i % len(recorded)] for i in range(EVENTS)]
    prehashes = [compute_prehash(event, context).encode() for event, context in workload]

    def hash_recorded() -> None:
        for event in ours:
            epcis.event_id(event)

    def hash_reference() -> None:
        for event, context in workload:
            event_hash(event, context)

    def sha256_only() -> None:
        for prehash in prehashes:
            hashlib.sha256(prehash).hexdigest()

    def hash_typical() -> None:
        for _ in range(EVENTS):
            event_hash(TYPICAL_EVENT)

    per_s = EVENTS / _best(hash_recorded)
    typical = _best(hash_typical)
    seconds = _best(hash_reference)
    baseline = _best(sha256_only)
    print(f"events={EVENTS:,} (best of {ROUNDS} rounds)")
    print(f"sha256_prehash_per_s={EVENTS / baseline:,.0f}")
    print(f"event_hash_per_s={per_s:,.0f} (the events unitrace records, store-day mix)")
    print(f"event_hash_reference_per_s={EVENTS / seconds:,.0f} ({len(reference)} reference events)")
    print(f"event_hash_typical_shipping_per_s={EVENTS / typical:,.0f}")
    print(f"event_hash_reference_vs_sha256={seconds / baseline:.1f}")
    print(
        f"event_hash_target_met={'yes' if per_s >= TARGET_PER_S else 'NO'} (>= {TARGET_PER_S:,}/s)"
    )


if __name__ == "__main__":
    main()
