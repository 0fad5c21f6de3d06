"""Sell-through: units supplied to stores, sold and returned there, from the event log.

The figures are defined once in ``docs/analytics.md``. A brand sees its own units in every
store; a retailer sees every brand's units in its own stores.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from unitrace.domain import sellthrough as rules
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.errors import ValidationError
from unitrace.services.runtime import Runtime
from unitrace.storage import analytics as store
from unitrace.storage import orgs as org_store
from unitrace.storage import sellthrough as rollups

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SellThroughRow:
    """One group of the report: the dimensions it was grouped by are set (with what names
    them: a store brings its city, retailer and market; a batch its product), the rest None."""

    supplied: int
    sold: int
    returned: int
    product_id: int | None = None
    product_name: str | None = None
    batch_id: int | None = None
    lot_number: str | None = None
    brand_id: int | None = None
    brand_name: str | None = None
    store_id: int | None = None
    store_name: str | None = None
    city: str | None = None
    retailer_id: int | None = None
    retailer_name: str | None = None
    market: str | None = None
    period: str | None = None  # first day of the day, week (Monday) or month, when asked
    on_hand: int | None = None  # units at the stores now, for sale (without a period)
    weeks_of_supply: float | None = None
    # days on shelf of the units sold (receipt at the store to sale): None when none sold
    median_days: float | None = None
    mean_days: float | None = None
    shelf_days: dict[str, int] | None = None  # how many sold within 0-7, 8-14, … days

    @property
    def net_sold(self) -> int:
        """Sold, less the units customers brought back."""
        return self.sold - self.returned

    @property
    def sell_through(self) -> float | None:
        """Net units sold over units supplied (None when nothing was supplied)."""
        return None if self.supplied == 0 else round(self.net_sold / self.supplied, 4)


def _check_window(since: dt.date | None, until: dt.date | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            raise ValidationError(f"{name} needs a time zone")
    if since is not None and until is not None and until <= since:
        raise ValidationError("until must be after since")


def _day(value: dt.date | None) -> dt.date | None:
    """A window bound as a UTC day (a time is read as the day it falls on, in UTC)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date()
    return value


def _scope(
    rt: Runtime, principal: Principal, by: str | Sequence[str]
) -> tuple[Any, tuple[str, ...]]:
    with rt.db.read() as conn:
        org = org_store.get_organization(conn, principal.organization_id)
    try:
        if org.kind is OrganizationKind.REGULATOR:
            dims = rules.parse_dimensions(by, rules.MARKET_LEVEL)
            return rollups.Scope(market=org.market), dims
        dims = rules.parse_dimensions(by)
    except rules.DimensionError as exc:
        raise ValidationError(str(exc)) from exc
    if org.kind is OrganizationKind.RETAILER:
        return rollups.Scope(retailer_id=org.id), dims
    return rollups.Scope(owner_id=org.id), dims


class Folder:
    """Folds newly recorded receipts and sales into the daily figures in the background,
    every ``analytics_fold_seconds``, so a report rarely has a backlog to fold first."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.rt.settings.analytics_fold_seconds <= 0:
            return
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="unitrace-fold", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.rt.settings.analytics_fold_seconds):
            try:
                refresh(self.rt)
            except Exception:  # keep folding later; reports fold what is left themselves
                log.exception("folding receipts and sales into sell-through failed")


FOLD_BATCH = 1_000  # events per fold transaction: writers wait at most one batch


def refresh(rt: Runtime) -> int:
    """Fold the receipts and sales recorded since the last fold into the daily figures, a
    batch of events per transaction; how many events were folded."""
    folded = 0
    while True:
        with rt.db.read() as conn:
            if not rollups.pending(conn):
                return folded
        with rt.db.transaction() as conn:
            done = rollups.fold(conn, limit=FOLD_BATCH)
        if done == 0:
            return folded
        folded += done


def sell_through(
    rt: Runtime,
    principal: Principal,
    *,
    by: str | Sequence[str] = ("product", "store"),
    period: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[SellThroughRow]:
    """Sell-through per ``by`` (and ``period``) over the UTC days ``[since, until)``.

    A brand sees its own units in every store, a retailer every brand's units in its own
    stores, a regulator its market's stores, grouped at market level only."""
    _check_window(since, until)
    since, until = _day(since), _day(until)
    if period is not None and period not in rules.PERIODS:
        raise ValidationError(f"period must be one of: {', '.join(rules.PERIODS)}")
    scope, dims = _scope(rt, principal, by)
    refresh(rt)
    today = rt.clock().astimezone(dt.UTC).date()
    with rt.db.read() as conn:
        window = {"since": since, "until": until}
        rows = rollups.facts(conn, dims, scope, period=period, **window)
        shelf = rollups.shelf_histogram(conn, dims, scope, period=period, **window)
        stock: dict[tuple[Any, ...], int] = {}
        rate: dict[tuple[Any, ...], int] = {}
        end = until or today + dt.timedelta(days=1)
        start = since or end - dt.timedelta(days=rules.RATE_DAYS)
        if period is None:
            stock = {_key(r, dims): int(r["on_hand"]) for r in rollups.on_hand(conn, dims, scope)}
            recent = rows
            if since is None:
                recent = rollups.facts(conn, dims, scope, period=None, since=start, until=end)
            rate = {_key(r, dims): int(r["sold"]) - int(r["returned"]) for r in recent}
        keys = {_key(r, dims, period): r for r in rows}
        if start <= today < end:  # stock that did not move in a window reaching today
            for key in stock:
                keys.setdefault(key, dict(zip(dims, key, strict=True)))
        names = {
            d: rollups.labels(conn, d, sorted({k[i] for k in keys}, key=str))
            for i, d in enumerate(dims)
        }
    histograms: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    for r in shelf:
        histograms.setdefault(_key(r, dims, period), []).append((int(r["days"]), int(r["units"])))
    result = []
    for key, r in keys.items():
        fields: dict[str, Any] = {}
        for i, d in enumerate(dims):
            fields |= names[d].get(key[i], {})
            fields[_ID[d]] = key[i]
        histogram = histograms.get(key, [])
        shelf_units = int(r.get("shelf_units") or 0)
        on_hand = None if period else stock.get(key, 0)  # now, so not per period
        result.append(
            SellThroughRow(
                supplied=int(r.get("supplied") or 0),
                sold=int(r.get("sold") or 0),
                returned=int(r.get("returned") or 0),
                **fields,
                period=r.get("period") if period else None,
                on_hand=on_hand,
                weeks_of_supply=rules.weeks_of_supply(
                    on_hand, rate.get(key, 0), (end - start).days
                ),
                median_days=rules.median(histogram),
                mean_days=round(int(r["shelf_seconds"]) / shelf_units / 86_400, 2)
                if shelf_units
                else None,
                shelf_days=rules.shelf_buckets(histogram) if histogram else None,
            )
        )
    return sorted(result, key=lambda row: _order(row, dims))


_ID = {
    "product": "product_id",
    "batch": "batch_id",
    "brand": "brand_id",
    "store": "store_id",
    "retailer": "retailer_id",
    "market": "market",
}
_LABEL = {
    "product": "product_name",
    "batch": "lot_number",
    "brand": "brand_name",
    "store": "store_name",
    "retailer": "retailer_name",
    "market": "market",
}


def _key(row: dict[str, Any], dims: Sequence[str], period: str | None = None) -> tuple[Any, ...]:
    key = tuple(row[d] for d in dims)
    return (*key, str(row["period"])) if period else key


def _order(row: SellThroughRow, dims: Sequence[str]) -> tuple[str, ...]:
    return (row.period or "", *(str(getattr(row, _LABEL[d]) or "") for d in dims))


SCAN_DIMENSIONS = ("product", "batch", "region")
PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class ScanReport:
    """Consumer scans of an organization's units over time.

    ``periods``: per key (product, batch or region) and period (its first day: a Monday for
    weeks): scans, distinct units scanned, scans that answered ``suspicious``. ``share``: per
    product or batch, units and units scanned at least once (empty for regions). ``alerts``:
    clone alerts raised per period and reason."""

    by: str
    period: str
    periods: list[dict[str, Any]]
    share: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


def scan_report(
    rt: Runtime,
    principal: Principal,
    *,
    by: str = "product",
    period: str = "week",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> ScanReport:
    if by not in SCAN_DIMENSIONS:
        raise ValidationError(f"by must be one of: {', '.join(SCAN_DIMENSIONS)}")
    if period not in PERIODS:
        raise ValidationError(f"period must be one of: {', '.join(PERIODS)}")
    _check_window(since, until)
    org = principal.organization_id
    with rt.db.read() as conn:
        periods = store.scan_counts(conn, org, by=by, bucket=period, since=since, until=until)
        share = [] if by == "region" else store.scanned_share(conn, org, by=by)
        alerts = store.alert_counts(conn, org, bucket=period)
    for row in share:
        units = int(row["units"])
        row["share_scanned"] = round(int(row["units_scanned"]) / units, 4) if units else None
    return ScanReport(by, period, periods, share, alerts)


SELL_THROUGH_FIGURES = (
    "supplied",
    "sold",
    "returned",
    "net_sold",
    "sell_through",
    "on_hand",
    "weeks_of_supply",
    "median_days",
    "mean_days",
)
_NAMING = {
    "product": ("product_id", "product_name"),
    "batch": ("batch_id", "lot_number", "product_name"),
    "brand": ("brand_id", "brand_name"),
    "store": ("store_id", "store_name", "city", "retailer_name", "market"),
    "retailer": ("retailer_id", "retailer_name", "market"),
    "market": ("market",),
}


def sell_through_columns(by: str | Sequence[str], period: str | None) -> tuple[str, ...]:
    """The columns of a sell-through table grouped by ``by``: what names each group, the
    period when there is one, then the figures."""
    try:
        dims = rules.parse_dimensions(by)
    except rules.DimensionError as exc:
        raise ValidationError(str(exc)) from exc
    named = dict.fromkeys(c for d in dims for c in _NAMING[d])
    if period:  # on hand is now, not per period
        figures = [f for f in SELL_THROUGH_FIGURES if f not in ("on_hand", "weeks_of_supply")]
        return (*named, "period", *figures)
    return (*named, *SELL_THROUGH_FIGURES)


def sell_through_record(row: SellThroughRow) -> dict[str, Any]:
    """A row as plain data, with the derived figures."""
    return {**vars(row), "net_sold": row.net_sold, "sell_through": row.sell_through}


def sell_through_groupings(rt: Runtime, principal: Principal) -> tuple[str, ...]:
    """The groupings the caller may ask for, the usual one first."""
    with rt.db.read() as conn:
        kind = org_store.get_organization(conn, principal.organization_id).kind
    if kind is OrganizationKind.REGULATOR:
        return ("market", "market,brand", "brand", "retailer", "product")
    own = "brand" if kind is OrganizationKind.RETAILER else "retailer"
    return ("product,store", "product", "batch", "store", own, "market")


def sell_through_trend(
    rt: Runtime,
    principal: Principal,
    *,
    period: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Everything the caller sees added up per period: supplied, sold, returned, net sold."""
    totals: dict[str, dict[str, Any]] = {}
    for row in sell_through(rt, principal, by="market", period=period, since=since, until=until):
        key = row.period or ""
        total = totals.setdefault(key, {"period": key, "supplied": 0, "sold": 0, "returned": 0})
        for name in ("supplied", "sold", "returned"):
            total[name] += getattr(row, name)
    for total in totals.values():
        total["net_sold"] = total["sold"] - total["returned"]
    return [totals[k] for k in sorted(totals)]
