"""Sell-through: units supplied to stores, sold and returned there, from the event log.

The figures are defined once in ``docs/analytics.md``. A brand sees its own units in every
store; a retailer sees every brand's units in its own stores.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from unitrace.domain.model import OrganizationKind, Principal
from unitrace.errors import ValidationError
from unitrace.services.runtime import Runtime
from unitrace.storage import analytics as store
from unitrace.storage import orgs as org_store


@dataclass(frozen=True)
class SellThroughRow:
    product_id: int
    product_name: str
    store_id: int
    store_name: str
    city: str
    retailer_name: str
    market: str
    supplied: int
    sold: int
    returned: int
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


def _check_window(since: dt.datetime | None, until: dt.datetime | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise ValidationError(f"{name} needs a time zone")
    if since is not None and until is not None and until <= since:
        raise ValidationError("until must be after since")


def sell_through(
    rt: Runtime,
    principal: Principal,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[SellThroughRow]:
    """Sell-through by product and store over ``[since, until)`` (event times, UTC)."""
    _check_window(since, until)
    with rt.db.read() as conn:
        org = org_store.get_organization(conn, principal.organization_id)
        brand_id = retailer_id = None
        if org.kind is OrganizationKind.RETAILER:
            retailer_id = org.id
        elif org.kind is OrganizationKind.REGULATOR:
            raise ValidationError("regulators see market-level figures, not store-level ones")
        else:
            brand_id = org.id
        rows = store.sell_through(
            conn, brand_id=brand_id, retailer_id=retailer_id, since=since, until=until
        )
        shelf = store.shelf_days(
            conn, brand_id=brand_id, retailer_id=retailer_id, since=since, until=until
        )
    result = []
    for row in rows:
        days = shelf.get((row["product_id"], row["store_id"]))
        if days is not None:
            names = [name for _, name in store.SHELF_BUCKETS] + ["days_over_60"]
            row |= {
                "median_days": round(float(days["median_days"]), 2),
                "mean_days": round(float(days["mean_days"]), 2),
                "shelf_days": {name: int(days[name]) for name in names},
            }
        result.append(SellThroughRow(**row))
    return result


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
