"""``unitrace alerts``, ``unitrace reports`` and ``unitrace scans``: the brand's clone
alerts and its inbox of consumer problem reports, and the retention of the public scan log."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from unitrace.cli.context import acting_for, runtime
from unitrace.cli.options import JsonOption, LimitOption, OffsetOption, OrgOption
from unitrace.cli.output import (
    code_column,
    print_fields,
    print_json,
    print_page_footer,
    print_table,
    say,
)
from unitrace.services import scanlog, support

alerts_app = typer.Typer(help="Clone alerts on your units: list them, mark them investigated.")
reports_app = typer.Typer(help="Problems consumers reported on your units: list, show, close.")
scans_app = typer.Typer(help="The public scan log.")

ALERT_COLUMNS = ("ID", code_column(), "Reason", "Status", "Product", "Lot", "Scans", "Raised")
REPORT_COLUMNS = ("ID", "Kind", code_column(), "Product", "Lot", "Status", "Received", "Message")


class AlertStatus(StrEnum):
    OPEN = "open"
    INVESTIGATED = "investigated"
    ALL = "all"


class ReportStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


AlertId = Annotated[int, typer.Argument(metavar="ID", help="Alert ID.")]
ReportId = Annotated[int, typer.Argument(metavar="ID", help="Report ID.")]


def _status(value: StrEnum) -> str | None:
    return None if value.value == "all" else value.value


@alerts_app.command("list")
def list_alerts(
    ctx: typer.Context,
    org: OrgOption,
    status: Annotated[AlertStatus, typer.Option(help="Which alerts.")] = AlertStatus.OPEN,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List clone alerts on the organization's units, newest first (open ones by default)."""
    rt, principal = acting_for(ctx, org)
    page = support.list_alerts(rt, principal, status=_status(status), limit=limit, offset=offset)
    if as_json:
        print_json(page)
        return
    rows = [
        (a.id, a.code, a.reason, a.status, a.product_name, a.lot_number, a.scan_count,
         a.created_at)
        for a in page.items
    ]  # fmt: skip
    print_table(ALERT_COLUMNS, rows, title=f"{page.total:,} alerts")
    print_page_footer(len(page.items), page.total, offset)


@alerts_app.command("investigate")
def investigate(
    ctx: typer.Context,
    alert_id: AlertId,
    org: OrgOption,
    note: Annotated[str, typer.Option(help="What was found, kept with the alert.")],
    as_json: JsonOption = False,
) -> None:
    """Mark an open alert investigated; later scans of the unit count afresh."""
    rt, principal = acting_for(ctx, org)
    alert = support.investigate_alert(rt, principal, alert_id, note=note)
    if as_json:
        print_json(alert)
    else:
        say(f"Alert {alert.id} ({alert.reason}, unit {alert.code}) marked investigated.")


@reports_app.command("list")
def list_reports(
    ctx: typer.Context,
    org: OrgOption,
    status: Annotated[ReportStatus, typer.Option(help="Which reports.")] = ReportStatus.OPEN,
    limit: LimitOption = 50,
    offset: OffsetOption = 0,
    as_json: JsonOption = False,
) -> None:
    """List the organization's inbox of problem reports, newest first (open ones by default)."""
    rt, principal = acting_for(ctx, org)
    page = support.list_reports(rt, principal, status=_status(status), limit=limit, offset=offset)
    if as_json:
        print_json(page)
        return
    rows = [
        (r.id, r.kind_label, r.code, r.product_name, r.lot_number, r.status, r.created_at,
         r.message if len(r.message) <= 60 else r.message[:59] + "…")
        for r in page.items
    ]  # fmt: skip
    print_table(REPORT_COLUMNS, rows, title=f"{page.total:,} reports")
    print_page_footer(len(page.items), page.total, offset)


@reports_app.command("show")
def show(
    ctx: typer.Context, report_id: ReportId, org: OrgOption, as_json: JsonOption = False
) -> None:
    """Show a report with the unit's verdict now and its history."""
    rt, principal = acting_for(ctx, org)
    case = support.get_report(rt, principal, report_id)
    if as_json:
        print_json(case)
        return
    r, v = case.report, case.verification
    contact = " ".join(x for x in (r.contact_name, r.contact_email) if x) or None
    print_fields(
        [
            ("ID", r.id),
            ("Kind", r.kind_label),
            ("Status", r.status),
            ("Received", r.created_at),
            ("Message", r.message),
            ("Unit", r.code),
            ("Product", f"{r.product_name} (lot {r.lot_number})"),
            ("Disposition", r.disposition),
            ("Verdict", f"{v['verdict']}: {v['headline']}"),
            ("Contact", contact),
            ("Closed", f"{r.closed_at:%Y-%m-%d %H:%M} by {r.closed_by}" if r.closed_at else None),
            ("Resolution", r.resolution if r.closed_at else None),
        ],
        title=f"Problem report {r.id}",
    )
    print_table(
        ("When", "Step", "Summary", "By", "Where"),
        [
            (e.event_time, e.biz_step, e.summary, e.organization_name, e.location_name)
            for e in case.timeline
        ],
        title="History",
    )


@reports_app.command("close")
def close(
    ctx: typer.Context,
    report_id: ReportId,
    org: OrgOption,
    resolution: Annotated[str, typer.Option(help="What was done, kept with the report.")],
    as_json: JsonOption = False,
) -> None:
    """Close an open report with its resolution."""
    rt, principal = acting_for(ctx, org)
    report = support.close_report(rt, principal, report_id, resolution=resolution)
    if as_json:
        print_json(report)
    else:
        say(f"Report {report.id} closed.")


@scans_app.command("purge")
def purge(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Apply the retention settings now: delete public scans older than
    UNITRACE_SCAN_RETENTION_DAYS and erase consumers' contact details older than
    UNITRACE_CONTACT_RETENTION_DAYS (the server also does this every hour)."""
    done = scanlog.purge(runtime(ctx))
    if as_json:
        print_json(done)
    else:
        say(
            f"Deleted {done.scans:,} scan(s); erased the contact details of "
            f"{done.contacts:,} record(s)."
        )
