"""The public scan log: every scan recorded, off the request path, nothing lost.

A request only appends a small record to an in-memory buffer (no I/O, no lock held for
long). A background thread writes the buffer every ``scan_log_flush_seconds`` in one
transaction (one executemany statement for all buffered scans), then runs clone detection
for the units just scanned in a second transaction, set-based. Stopping the server
flushes what is left; a failed write puts the scans back at the front of the buffer and is
retried on the next tick.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from unitrace.domain.verification import (
    ALERT_DESCRIPTIONS,
    ALERT_FOR_DISPOSITION,
    AlertReason,
    agent_family,
    market_of_region,
    origin_token,
)
from unitrace.services.runtime import Runtime
from unitrace.services.verification import Verification
from unitrace.storage import public as store

log = logging.getLogger(__name__)

ORIGIN_KEY = "origin_key"
PURGE_EVERY_SECONDS = 3600.0
MAX_BATCH = 5_000  # scans per statement


class Origin(NamedTuple):
    """Who scanned, anonymously: a keyed hash of the network, place, browser family.

    (A named tuple: one is made per public scan, and it is the cheapest record to make.)"""

    token: str
    country: str = ""
    region: str = ""  # as a market code (US-CA -> CA)
    city: str = ""
    agent: str = ""


def origin_key(rt: Runtime) -> bytes:
    """The installation's key for origin tokens (created on first use if missing)."""
    cached = rt.caches.get(ORIGIN_KEY)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    with rt.db.read() as conn:
        value = store.instance_secret(conn, ORIGIN_KEY)
    if value is None:
        with rt.db.transaction() as conn:
            value = store.instance_secret(conn, ORIGIN_KEY)
            if value is None:
                value = secrets.token_hex(32)
                store.insert_instance_secret(conn, ORIGIN_KEY, value, rt.clock())
    key = bytes.fromhex(value)
    rt.caches[ORIGIN_KEY] = key
    return key


def describe_origin(
    rt: Runtime,
    address: str,
    user_agent: str = "",
    *,
    country: str = "",
    region: str = "",
    city: str = "",
) -> Origin:
    return Origin(
        token=origin_token(origin_key(rt), address),
        country=country.strip().upper()[:2],
        region=market_of_region(region)[:50],
        city=city.strip()[:100],
        agent=agent_family(user_agent),
    )


class ScanLog:
    """The buffer of recorded scans and the thread that writes it."""

    def __init__(self, rt: Runtime, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.rt = rt
        self.clock = clock or rt.clock
        self._buffer: deque[dict[str, Any]] = deque()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0

    # -- the request path

    def record(self, v: Verification, origin: Origin, link_type: str = "gs1:pip") -> None:
        """Note one scan (cheap: an append to the buffer)."""
        self._buffer.append(
            {
                "scanned_at": v.checked_at,
                "unit_id": v.unit_id,
                "organization_id": v.organization_id,
                "code": v.code,
                "verdict": v.verdict.value,
                "link_type": link_type[:40],
                "origin": origin.token,
                "country": origin.country,
                "region": origin.region,
                "city": origin.city,
                "agent": origin.agent,
                "_disposition": v.disposition,
            }
        )
        if len(self._buffer) >= MAX_BATCH:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    # -- the writer

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="unitrace-scan-log", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the writer and write whatever is still buffered."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        interval = self.rt.settings.scan_log_flush_seconds
        while not self._stop.is_set():
            self._wake.wait(interval)
            self._wake.clear()
            try:
                self.flush()
                if time.monotonic() - self._last_purge > PURGE_EVERY_SECONDS:
                    self._last_purge = time.monotonic()
                    purge(self.rt)
            except Exception:  # keep the writer alive; the scans stay buffered
                log.exception("writing the scan log failed; retrying")

    def flush(self) -> int:
        """Write every buffered scan and run clone detection for them; returns how many."""
        written = 0
        with self._flush_lock:
            while self._buffer:
                batch: list[dict[str, Any]] = []
                while self._buffer and len(batch) < MAX_BATCH:
                    batch.append(self._buffer.popleft())
                rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in batch]
                try:
                    with self.rt.db.transaction() as conn:
                        store.insert_scans(conn, rows)
                except Exception:
                    self._buffer.extendleft(reversed(batch))
                    raise
                written += len(batch)
                detect_clones(self.rt, batch, self.clock())
        return written


def detect_clones(rt: Runtime, scans: list[dict[str, Any]], now: dt.datetime) -> None:
    """Raise alerts for the units just scanned, set-based, in one transaction:
    scans of destroyed, decommissioned or stolen units; sold units scanned from too many
    distinct origins; scans from a market the unit was never shipped to."""
    settings = rt.settings
    known = [s for s in scans if s["unit_id"] is not None]
    if not known:
        return
    alerts: dict[tuple[int, str], dict[str, Any]] = {}
    for scan in known:
        reason = ALERT_FOR_DISPOSITION.get(scan["_disposition"] or "")
        if reason is not None:
            alerts[(scan["unit_id"], reason.value)] = _alert(
                scan, reason, ALERT_DESCRIPTIONS[reason]
            )
    sold = sorted({s["unit_id"] for s in known if s["_disposition"] == "retail_sold"})
    placed = [s for s in known if s["region"]]
    with rt.db.transaction() as conn:
        if placed:
            markets = store.unit_markets(conn, sorted({s["unit_id"] for s in placed}))
            for scan in placed:
                if scan["region"] not in markets.get(scan["unit_id"], set()):
                    detail = f"scanned in market {scan['region']}, never shipped there"
                    key = (scan["unit_id"], AlertReason.FOREIGN_MARKET.value)
                    alerts[key] = _alert(scan, AlertReason.FOREIGN_MARKET, detail)
        store.raise_alerts(conn, [a | {"created_at": now} for a in alerts.values()])
        if sold:
            store.raise_many_origin_alerts(
                conn,
                sold,
                since=now - dt.timedelta(hours=settings.clone_window_hours),
                max_origins=settings.clone_max_origins,
                now=now,
            )


def _alert(scan: dict[str, Any], reason: AlertReason, detail: str) -> dict[str, Any]:
    return {
        "organization_id": scan["organization_id"],
        "unit_id": scan["unit_id"],
        "reason": reason.value,
        "detail": detail,
    }


@dataclass(frozen=True)
class PurgeResult:
    scans: int
    contacts: int


def purge(rt: Runtime) -> PurgeResult:
    """Apply the retention settings: delete old scans, erase old contact details."""
    now = rt.clock()
    settings = rt.settings
    with rt.db.transaction() as conn:
        scans = store.purge_scans(conn, now - dt.timedelta(days=settings.scan_retention_days))
        contacts = store.purge_contacts(
            conn, now - dt.timedelta(days=settings.contact_retention_days), now
        )
    return PurgeResult(scans, contacts)
