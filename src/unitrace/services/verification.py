"""Public verification: what a scan of a printed code answers, for the consumer page, the
JSON API and the resolver's links, plus the public parts of a unit (COA, event summary).

One lookup statement per scan: the unit's changing facts come from the database every
time; its batch's facts (product, lab results, brand) from a short-lived in-process cache,
so a retest or a new image shows within ``FACTS_TTL_SECONDS``. An unknown code, a code of an
organization that keeps its units private, and a Digital Link whose GTIN or lot does not
match the code all answer exactly alike: ``unknown``.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from unitrace.domain.codes import InvalidCodeError, normalize_code
from unitrace.domain.gs1 import build_digital_link
from unitrace.domain.verification import (
    EXPLANATIONS,
    HEADLINES,
    Decision,
    LinkType,
    UnitFacts,
    Verdict,
    decide,
    linkset,
)
from unitrace.errors import NotFoundError, ValidationError
from unitrace.services.runtime import Runtime
from unitrace.storage import events as event_store
from unitrace.storage import history as history_store
from unitrace.storage import public as store

FACTS_TTL_SECONDS = 15.0
MISSING = object()


class TtlCache:
    """A small thread-safe cache whose entries live ``ttl`` seconds (bounded in size)."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return MISSING
        return entry[1]

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, value)


def cache_of(rt: Runtime, name: str) -> TtlCache:
    cache = rt.caches.get(name)
    if cache is None:
        cache = rt.caches.setdefault(name, TtlCache(FACTS_TTL_SECONDS))
    return cache  # type: ignore[no-any-return]


@dataclass(slots=True)  # not frozen: one is made per public scan, and frozen costs there
class Verification:
    """The answer to one scan. ``unit_id`` and ``organization_id`` are for the scan log and
    internal callers only: they never leave through a public response."""

    code: str
    verdict: Verdict
    reason: str
    checked_at: dt.datetime
    unit_id: int | None = None
    organization_id: int | None = None
    facts: dict[str, Any] | None = None
    sold_on: dt.date | None = None
    sold_city: str | None = None
    recall: dict[str, Any] | None = None
    disposition: str | None = None
    # the unit's brand printed its own serial, one that could be guessed (imported on purpose)
    weak_serial: bool = False

    @property
    def known(self) -> bool:
        return self.verdict is not Verdict.UNKNOWN

    @property
    def headline(self) -> str:
        return HEADLINES[self.verdict]

    @property
    def explanation(self) -> str:
        return EXPLANATIONS[self.verdict]


def canonical(text: str) -> str:
    """A code as it arrives in a URL path or a scanner's text, in canonical form.

    Tolerates what scanners and phones add: surrounding whitespace and newlines, lower
    case, hyphens, Crockford look-alikes. A malformed code is a ``ValidationError``.
    """
    try:
        return normalize_code(text.strip())
    except InvalidCodeError as exc:
        raise ValidationError(str(exc), details={"reason": exc.reason}) from exc


def _cached_read(
    rt: Runtime, name: str, key: int, read: Callable[[Connection, int], dict[str, Any] | None]
) -> dict[str, Any] | None:
    """``read(conn, key)``, kept for ``FACTS_TTL_SECONDS`` in the cache ``name``."""
    cache = cache_of(rt, name)
    found = cache.get(key)
    if found is MISSING:
        with rt.db.single_read() as conn:
            found = read(conn, key)
        cache.put(key, found)
    return found  # type: ignore[no-any-return]


def _batch_facts(rt: Runtime, batch_id: int) -> dict[str, Any] | None:
    return _cached_read(rt, "public.batch", batch_id, store.batch_facts)


def verify(
    rt: Runtime, text: str, *, gtin: str | None = None, lot: str | None = None
) -> Verification:
    """The verdict on a scanned code (as typed or scanned; malformed: ``ValidationError``).

    ``gtin`` and ``lot`` come from a GS1 Digital Link path: when given they must match the
    unit's product and batch, or the answer is ``unknown`` (a serial copied onto another
    product's link proves nothing). With a ``gtin``, ``text`` may also be a serial the
    unit's brand printed itself (found by GTIN and serial; unknown answers then name the
    serial as scanned, never the unit's code).
    """
    now = rt.clock()
    row, code, shown = _lookup(rt, text, gtin)
    if row is None:
        return Verification(shown, Verdict.UNKNOWN, "unknown", now)
    # From here on an unknown answer still names the unit, for its owner's scan log only.
    hidden = Verification(shown, Verdict.UNKNOWN, "unknown", now, row["id"], row["organization_id"])
    facts = _batch_facts(rt, row["batch_id"]) if row["public_verification"] else None
    if facts is None:
        return hidden
    if gtin is not None and (facts["gtin"] or "").lstrip("0") != gtin.lstrip("0"):
        return hidden
    if lot is not None and facts["lot_number"] != lot:
        return hidden
    recall = None
    if row["recall_id"] is not None:
        recall = _cached_read(rt, "public.recall", row["recall_id"], store.recall_notice)
    decision: Decision = decide(
        UnitFacts(
            disposition=row["disposition"],
            expires_on=facts["expires_on"],
            under_recall=recall is not None,
            alert_reason=row["alert_reason"],
        ),
        now.date(),
    )
    sold_at: dt.datetime | None = row["sold_at"]
    sold = row["disposition"] == "retail_sold"
    return Verification(
        code=code,
        verdict=decision.verdict,
        reason=decision.reason,
        checked_at=now,
        unit_id=row["id"],
        organization_id=row["organization_id"],
        facts=facts,
        sold_on=sold_at.date() if sold and sold_at else None,
        sold_city=row["sold_city"] if sold else None,
        recall=recall,
        disposition=row["disposition"],
        weak_serial=row["serial_guessable"],
    )


def _lookup(rt: Runtime, text: str, gtin: str | None) -> tuple[dict[str, Any] | None, str, str]:
    """The unit's scan-time facts, its code, and what an unknown answer shows: the code, or
    a brand's serial as scanned. A serial that happens to read as a unit code but names no
    unit is tried as the brand's serial too."""
    try:
        code = canonical(text)
    except ValidationError:
        if gtin is None:
            raise
        row = store.lookup_serial_fast(rt.db, gtin, text)
        return row, str(row["code"]) if row else text, text
    row = store.lookup_unit_fast(rt.db, code)
    if row is None and gtin is not None:
        row = store.lookup_serial_fast(rt.db, gtin, text)
        return row, str(row["code"]) if row else code, text if row else code
    return row, code, code


# --- What a verification says in public


def links(rt: Runtime, v: Verification) -> dict[LinkType, dict[str, str]]:
    """The links available for a verified unit, in resolver order (gs1:pip first)."""
    base = f"{rt.settings.resolver_base_url}/{v.code}"
    found = {
        LinkType.PIP: {
            "href": base,
            "title": "Product information and authenticity",
            "type": "text/html",
        },
    }
    if v.facts and v.facts.get("coa_sha256"):
        found[LinkType.CERTIFICATION_INFO] = {
            "href": f"{base}/coa.pdf",
            "title": "Certificate of Analysis",
            "type": "application/pdf",
        }
    found[LinkType.RECALL_STATUS] = {
        "href": f"{base}?linkType=gs1:recallStatus",
        "title": "Recall status",
        "type": "application/json",
    }
    found[LinkType.EPCIS] = {
        "href": f"{base}/events",
        "title": "Production and supply history",
        "type": "application/json",
    }
    if v.verdict is Verdict.AUTHENTIC_ALREADY_SOLD:
        found[LinkType.REGISTER_PRODUCT] = {
            "href": f"{base}/register",
            "title": "Register your purchase",
            "type": "text/html",
        }
    return found


def anchor(rt: Runtime, v: Verification) -> str:
    """The identifier's canonical URI: its Digital Link when the product has a GTIN."""
    base = rt.settings.resolver_base_url
    if v.facts and v.facts.get("gtin"):
        return build_digital_link(base, v.facts["gtin"], lot=v.facts["lot_number"], serial=v.code)
    return f"{base}/{v.code}"


def linkset_of(rt: Runtime, v: Verification) -> dict[str, object]:
    return linkset(anchor(rt, v), links(rt, v))


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def recall_status(v: Verification) -> dict[str, Any]:
    """The gs1:recallStatus answer: is this unit recalled, and what to do."""
    notice = v.recall
    return {
        "code": v.code,
        "recalled": notice is not None,
        "recall": None
        if notice is None
        else {
            "number": notice["number"],
            "title": notice["title"],
            "severity": notice["severity"],
            "reason": notice["reason"],
            "instructions": notice["consumer_instructions"],
            "since": _iso(notice["activated_at"]),
        },
    }


def _head(v: Verification) -> dict[str, Any]:
    return {
        "code": v.code,
        "verdict": v.verdict.value,
        "reason": v.reason,
        "headline": v.headline,
        "message": v.explanation,
        "checked_at": v.checked_at.isoformat(),
    }


def _shared(f: dict[str, Any]) -> dict[str, Any]:
    """The batch-level part of a record: the same for every unit of the batch."""
    analytes = f["analytes"]
    return {
        "product": {
            "name": f["product_name"],
            "category": f["category"],
            "strain": f["strain"],
            "net_content": _num(f["net_content"]),
            "net_content_unit": f["net_content_unit"],
            "gtin": f["gtin"],
            "image_url": f["image_url"],
            "description": f["description"],
            "warnings": f["warnings"],
        },
        "brand": {
            "name": f["brand_name"],
            "license_number": f["brand_license"],
            "market": f["brand_market"],
        },
        "batch": {
            "lot": f["lot_number"],
            "produced_on": _iso(f["produced_on"]),
            "expires_on": _iso(f["expires_on"]),
            "lab": {
                "status": f["lab_status"],
                "lab_name": f["lab_name"],
                "tested_on": _iso(f["tested_on"]),
                "cannabinoids": [
                    {"name": a["name"], "amount": _num(a["amount"]), "unit": a["unit"]}
                    for a in analytes
                    if a["kind"] == "cannabinoid"
                ],
                "terpenes": [
                    {"name": a["name"], "amount": _num(a["amount"]), "unit": a["unit"]}
                    for a in analytes
                    if a["kind"] == "terpene"
                ],
                "panels": [{"name": p["name"], "result": p["result"]} for p in f["panels"]],
                "coa": bool(f["coa_sha256"]),
            },
        },
    }


def _tail(rt: Runtime, v: Verification) -> dict[str, Any]:
    if not v.known or v.facts is None:
        return {"sale": None, "recall": None, "links": None, "weak_serial": False}
    sale = None
    if v.sold_on is not None:
        sale = {"sold_on": v.sold_on.isoformat(), "city": v.sold_city or None}
    return {
        "sale": sale,
        "recall": recall_status(v)["recall"] if v.recall is not None else None,
        "links": {link.value: target["href"] for link, target in links(rt, v).items()},
        "weak_serial": v.weak_serial,
    }


def public_record(rt: Runtime, v: Verification) -> dict[str, Any]:
    """The JSON verification result: the same keys for every verdict, ``unknown`` included.
    ``weak_serial``: the code alone is weak evidence (its brand printed a serial that could
    be guessed; always false in an unknown answer)."""
    shared: dict[str, Any] = {"product": None, "brand": None, "batch": None}
    if v.known and v.facts is not None:
        shared = _shared(v.facts)
    return _head(v) | shared | _tail(rt, v)


_DUMP = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


_HEADLINES_JSON = {verdict: _DUMP(text) for verdict, text in HEADLINES.items()}
_EXPLANATIONS_JSON = {verdict: _DUMP(text) for verdict, text in EXPLANATIONS.items()}


def public_json(rt: Runtime, v: Verification) -> str:
    """:func:`public_record` as JSON text, fast: this is most of a scan's own work.

    The batch-level part (product, brand, batch and lab results: most of the bytes) is
    serialized once per batch and cached; the rest is assembled from pre-encoded pieces
    (a canonical code needs no escaping). A test holds it equal to :func:`public_record`.
    """
    if not v.known or v.facts is None:
        return _DUMP(public_record(rt, v))
    cache = cache_of(rt, "public.batch_json")
    key = v.facts["batch_id"]
    fragment: str = cache.get(key)
    if fragment is MISSING:
        fragment = _DUMP(_shared(v.facts))[1:-1]
        cache.put(key, fragment)
    code = v.code
    base = _DUMP(rt.settings.resolver_base_url)[1:-1] + "/" + code
    links = f'"gs1:pip":"{base}"'
    if v.facts["coa_sha256"]:
        links += f',"gs1:certificationInfo":"{base}/coa.pdf"'
    links += f',"gs1:recallStatus":"{base}?linkType=gs1:recallStatus","gs1:epcis":"{base}/events"'
    if v.verdict is Verdict.AUTHENTIC_ALREADY_SOLD:
        links += f',"gs1:registerProduct":"{base}/register"'
    sale = "null"
    if v.sold_on is not None:
        sale = f'{{"sold_on":"{v.sold_on.isoformat()}","city":{_DUMP(v.sold_city or None)}}}'
    recall = "null" if v.recall is None else _DUMP(recall_status(v)["recall"])
    return (
        f'{{"code":"{code}","verdict":"{v.verdict.value}","reason":{_DUMP(v.reason)},'
        f'"headline":{_HEADLINES_JSON[v.verdict]},"message":{_EXPLANATIONS_JSON[v.verdict]},'
        f'"checked_at":"{v.checked_at.isoformat()}",{fragment},'
        f'"sale":{sale},"recall":{recall},"links":{{{links}}},'
        f'"weak_serial":{"true" if v.weak_serial else "false"}}}'
    )


# --- The public parts of a unit


def verified_unit(rt: Runtime, code: str) -> Verification:
    """The verification of a code the public may see; anything else is ``NotFoundError``."""
    v = verify(rt, code)
    if not v.known or v.unit_id is None or v.organization_id is None:
        raise NotFoundError("no unit with this code can be verified")
    return v


def public_coa(rt: Runtime, code: str) -> tuple[str, str, bytes]:
    """The COA of a public unit's batch: (filename, content type, bytes)."""
    v = verified_unit(rt, code)
    f = v.facts or {}
    if not f.get("coa_sha256"):
        raise NotFoundError("this batch has no Certificate of Analysis yet")
    return f["coa_filename"], f["coa_content_type"], rt.files.get(f["coa_sha256"])


_PUBLIC_STEPS = {
    "commissioning": "Produced and labelled",
    "packing": "Packed",
    "unpacking": "Unpacked",
    "shipping": "Shipped",
    "receiving": "Received",
    "retail_selling": "Sold",
    "holding": "Held",
    "destroying": "Destroyed",
    "decommissioning": "Decommissioned",
    "void_shipping": "Shipment cancelled",
    "stocking": "Back in stock",
    "inspecting": "Inspected",
    "returning": "Returned",
    "recalling": "Recalled",
}


def public_history(rt: Runtime, code: str) -> list[dict[str, Any]]:
    """The unit's journey as the public sees it: date, step, kind of business, city.

    No names of stores or businesses other than the brand's, no internal ids; events
    declared wrong (and the declarations) are left out.
    """
    v = verified_unit(rt, code)
    if v.unit_id is None:  # pragma: no cover - a known unit has its id
        raise NotFoundError("no unit with this code can be verified")
    with rt.db.read() as conn:
        commissioning = history_store.get_commission_event_row_id(conn, v.unit_id)
        row_ids = event_store.unit_event_row_ids(conn, v.unit_id, commissioning)
        wrong = history_store.declared_wrong(conn, row_ids)
        rows = store.public_event_rows(conn, row_ids)
    journey = []
    for row in rows:
        if row["error_declaration"] or int(row["id"]) in wrong:
            continue
        step = row["biz_step"] or ""
        what = _PUBLIC_STEPS.get(step, step.replace("_", " ").capitalize() or "Recorded")
        if step == "retail_selling" and row["disposition"] != "retail_sold":
            what = "Back on sale (a sale was taken back)"  # the corrective event of an undo
        journey.append(
            {
                "date": row["event_time"].date().isoformat(),
                "step": step,
                "what": what,
                "by": row["organization_kind"],
                "city": row["city"] or None,
            }
        )
    return journey


# --- GTIN-only and GTIN + lot links: the product or the batch, not one unit


@dataclass(frozen=True)
class ItemInfo:
    gtin: str
    lot: str | None
    facts: dict[str, Any]  # product and brand; with a lot also the batch and its lab results


def describe_item(rt: Runtime, gtin: str, lot: str | None = None) -> ItemInfo:
    """What a Digital Link without a serial identifies: a product, or one of its batches.

    A GTIN nobody issued, or one of a brand that keeps its products private, is not found.
    """
    with rt.db.read() as conn:
        found = store.find_public_batch(conn, gtin, lot)
        if found is None:
            what = f"GTIN {gtin}" + (f" lot {lot}" if lot is not None else "")
            raise NotFoundError(f"no product with {what} can be verified")
        if found["batch_id"] is None:
            return ItemInfo(gtin, None, store.product_facts(conn, found["product_id"]))
    facts = _batch_facts(rt, found["batch_id"])
    return ItemInfo(gtin, lot, dict(facts or {}))


def item_record(item: ItemInfo) -> dict[str, Any]:
    """The JSON answer for a product or batch link (no verdict: no single unit is named)."""
    f = item.facts
    record: dict[str, Any] = {
        "gtin": item.gtin,
        "lot": item.lot,
        "product": {
            "name": f["product_name"],
            "category": f["category"],
            "strain": f["strain"],
            "net_content": _num(f["net_content"]),
            "net_content_unit": f["net_content_unit"],
            "image_url": f["image_url"],
            "description": f["description"],
            "warnings": f["warnings"],
        },
        "brand": {"name": f["brand_name"], "license_number": f["brand_license"]},
        "batch": None,
        "note": "This link names a product, not one unit: scan the unit's own code to check "
        "that it is genuine.",
    }
    if item.lot is not None:
        record["batch"] = {
            "lot": f["lot_number"],
            "produced_on": _iso(f["produced_on"]),
            "expires_on": _iso(f["expires_on"]),
            "lab_status": f["lab_status"],
            "lab_name": f["lab_name"],
            "tested_on": _iso(f["tested_on"]),
        }
    return record
