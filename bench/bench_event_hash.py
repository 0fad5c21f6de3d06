"""Canonical CBV 2.0 event hashes per second, against bare SHA-256 of the same pre-hash strings.

The events are the 42 reference events of tests/data/epcis-event-hash (every event type, sensor
data, extensions, EPC URIs and Digital Link URIs), hashed over and over. The baseline hashes the
already canonical pre-hash strings, so the ratio is the cost of canonicalisation.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from unitrace.domain.event_hash import compute_prehash, event_hash

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
    prehashes = [compute_prehash(event, context).encode() for event, context in workload]

    def hash_events() -> None:
        for event, context in workload:
            event_hash(event, context)

    def sha256_only() -> None:
        for prehash in prehashes:
            hashlib.sha256(prehash).hexdigest()

    def hash_typical() -> None:
        for _ in range(EVENTS):
            event_hash(TYPICAL_EVENT)

    typical = _best(hash_typical)
    seconds = _best(hash_events)
    baseline = _best(sha256_only)
    per_s = EVENTS / seconds
    print(f"events={EVENTS:,} cycling {len(reference)} reference events (best of {ROUNDS} rounds)")
    print(f"sha256_prehash_per_s={EVENTS / baseline:,.0f}")
    print(f"event_hash_per_s={per_s:,.0f}")
    print(f"event_hash_typical_shipping_per_s={EVENTS / typical:,.0f}")
    print(f"event_hash_vs_sha256={seconds / baseline:.1f}")
    print(
        f"event_hash_target_met={'yes' if per_s >= TARGET_PER_S else 'NO'} (>= {TARGET_PER_S:,}/s)"
    )


if __name__ == "__main__":
    main()
