"""Public verification through the services: verdicts along a unit's life, privacy, the
scan log and its clone detection, retention, registrations and problem reports."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from tests.factories import make_batch, make_org, make_product
from unitrace.adapters.clock import FixedClock
from unitrace.domain.codes import generate_code
from unitrace.domain.lifecycle import Operation
from unitrace.domain.model import LocationKind, OrganizationKind, Principal, Role
from unitrace.domain.recalls import Scope
from unitrace.domain.verification import Verdict
from unitrace.errors import ConflictError, NotFoundError, RateLimitedError, ValidationError
from unitrace.services import (
    access,
    organizations,
    recalls,
    retail,
    scanlog,
    serialization,
    shipments,
    support,
    verification,
)
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import organizations as organizations_table
from unitrace.storage.schema import problem_reports, public_scans, purchase_registrations

GTIN = "09506000134352"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Safari/604.1"


@dataclass
class World:
    brand: Principal
    retailer: Principal
    store: int
    batch_id: int
    lot: str
    codes: list[str]  # 0: sold at the store, 1-3: at the store, 4-7: at the brand


def _org(rt: Runtime, kind: OrganizationKind, market: str, city: str) -> Principal:
    n = generate_code()[:6]
    org = organizations.create_organization(
        rt, organizations.OrganizationDraft(f"{kind.value} {n}", kind, f"LIC-{n}", market, None)
    )
    organizations.create_location(
        rt,
        None,
        organizations.LocationDraft(
            "Store" if kind is OrganizationKind.RETAILER else "Facility",
            LocationKind.STORE if kind is OrganizationKind.RETAILER else LocationKind.FACILITY,
            city=city,
        ),
        organization_id=org.id,
    )
    user = access.create_user(
        rt, None, organization_id=org.id, email=f"a{n}@x.example", name="A",
        password="correct horse battery", role=Role.ADMIN,
    )  # fmt: skip
    return access.principal_for_user(user)


@pytest.fixture
def world(rt: Runtime) -> World:
    brand = _org(rt, OrganizationKind.BRAND, "CA", "Salinas")
    retailer = _org(rt, OrganizationKind.RETAILER, "NV", "Reno")
    store = organizations.list_locations(rt, retailer)[0].id
    product = make_product(rt, brand, gtin=GTIN)
    batch = make_batch(rt, brand, product)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=8)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    shipment = shipments.create_shipment(
        rt, brand, destination_organization_id=retailer.organization_id,
        destination_location_id=store, items=codes[:4],
    )  # fmt: skip
    shipments.ship(rt, brand, shipment.id)
    shipments.receive(rt, retailer, shipment.id, scans=codes[:4])
    retail.sell(rt, retailer, location_id=store, codes=[codes[0]])
    return World(brand, retailer, store, batch.id, batch.lot_number, codes)


def scan(rt: Runtime, log: scanlog.ScanLog, code: str, address: str, region: str = "") -> None:
    origin = scanlog.describe_origin(rt, address, IPHONE, region=region)
    log.record(verification.verify(rt, code), origin)


def alerts_of(rt: Runtime, brand: Principal) -> list[tuple[str, str]]:
    return sorted((a.code, a.reason) for a in support.list_alerts(rt, brand, status="open").items)


# --- Verdicts


def test_a_unit_in_stock_is_authentic_and_a_sold_one_says_when_and_in_which_city(
    rt: Runtime, world: World
) -> None:
    stocked = verification.verify(rt, world.codes[1])
    assert stocked.verdict is Verdict.AUTHENTIC
    assert stocked.sold_on is None
    sold = verification.verify(rt, world.codes[0])
    assert sold.verdict is Verdict.AUTHENTIC_ALREADY_SOLD
    assert sold.sold_on == rt.clock().date()
    assert sold.sold_city == "Reno"
    record = verification.public_record(rt, sold)
    assert record["sale"] == {"sold_on": rt.clock().date().isoformat(), "city": "Reno"}
    assert record["batch"]["lot"] == world.lot
    assert record["batch"]["lab"]["cannabinoids"][0] == {
        "name": "total_thc",
        "amount": 21.5,
        "unit": "%",
    }
    assert "gs1:registerProduct" in record["links"]
    assert "gs1:registerProduct" not in verification.public_record(rt, stocked)["links"]


def test_an_active_recall_reaches_units_already_sold_and_answers_recall_status(
    rt: Runtime, world: World
) -> None:
    draft = recalls.RecallDraft(
        title="Mould found",
        reason="Retest failed for microbials",
        severity="I",
        scope=Scope(batch_ids=(world.batch_id,)),
        consumer_instructions="Do not consume; return it to the store.",
    )
    recall = recalls.create_recall(rt, world.brand, draft)
    before = verification.verify(rt, world.codes[0])
    assert verification.recall_status(before) == {
        "code": world.codes[0],
        "recalled": False,
        "recall": None,
    }
    recalls.activate(rt, world.brand, recall.id)
    for code in (world.codes[0], world.codes[1], world.codes[5]):
        v = verification.verify(rt, code)
        assert v.verdict is Verdict.RECALLED, code
        status = verification.recall_status(v)
        assert status["recalled"] is True
        assert status["recall"]["number"] == recall.number
        assert status["recall"]["instructions"] == "Do not consume; return it to the store."
        assert verification.public_record(rt, v)["recall"]["title"] == "Mould found"


def test_destroyed_stolen_and_expired_units(rt: Runtime, world: World, clock: FixedClock) -> None:
    retail.change_disposition(rt, world.brand, operation=Operation.DESTROY, codes=[world.codes[4]])
    retail.change_disposition(
        rt, world.brand, operation=Operation.MARK_STOLEN, codes=[world.codes[5]]
    )
    assert verification.verify(rt, world.codes[4]).verdict is Verdict.DESTROYED
    stolen = verification.verify(rt, world.codes[5])
    assert (stolen.verdict, stolen.reason) == (Verdict.SUSPICIOUS, "stolen_code")
    clock.advance(days=400)  # the batch expires on 2027-11-01
    assert verification.verify(rt, world.codes[6]).verdict is Verdict.EXPIRED


def test_unknown_and_private_codes_answer_identically(rt: Runtime, world: World) -> None:
    with rt.db.transaction() as conn:
        conn.execute(
            update(organizations_table)
            .where(organizations_table.c.id == world.brand.organization_id)
            .values(public_verification=False)
        )
    unknown_code = generate_code()
    private = verification.public_record(rt, verification.verify(rt, world.codes[1]))
    unknown = verification.public_record(rt, verification.verify(rt, unknown_code))
    assert private["verdict"] == unknown["verdict"] == "unknown"
    assert {k: v for k, v in private.items() if k != "code"} == {
        k: v for k, v in unknown.items() if k != "code"
    }
    with pytest.raises(NotFoundError):
        verification.public_coa(rt, world.codes[1])
    with pytest.raises(NotFoundError):
        verification.public_history(rt, world.codes[1])
    with pytest.raises(NotFoundError):
        verification.describe_item(rt, GTIN)


def test_a_digital_link_must_name_the_units_own_gtin_and_lot(rt: Runtime, world: World) -> None:
    code = world.codes[1]
    assert verification.verify(rt, code, gtin=GTIN, lot=world.lot).verdict is Verdict.AUTHENTIC
    assert verification.verify(rt, code, gtin=GTIN[1:]).verdict is Verdict.AUTHENTIC  # GTIN-13
    assert verification.verify(rt, code, gtin="09506000134369").verdict is Verdict.UNKNOWN
    assert verification.verify(rt, code, gtin=GTIN, lot="OTHER").verdict is Verdict.UNKNOWN


def test_a_malformed_code_is_a_validation_error_not_an_unknown(rt: Runtime) -> None:
    code = generate_code()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(ValidationError):
        verification.verify(rt, wrong)
    with pytest.raises(ValidationError):
        verification.verify(rt, "hello")


@settings(
    max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    lower=st.booleans(),
    hyphens=st.booleans(),
    trailer=st.sampled_from(["", "\n", "\r\n", " ", "\t"]),
    leader=st.sampled_from(["", " ", "\n"]),
)
def test_scanner_variants_of_a_code_verify_as_the_code(
    rt: Runtime, world: World, lower: bool, hyphens: bool, trailer: str, leader: str
) -> None:
    code = world.codes[2]
    text = code.lower() if lower else code
    if hyphens:
        text = f"{text[:4]}-{text[4:8]}-{text[8:12]}-{text[12:]}"
    v = verification.verify(rt, leader + text + trailer)
    assert (v.code, v.verdict) == (code, Verdict.AUTHENTIC)


def test_the_fast_json_is_exactly_the_record(rt: Runtime, world: World) -> None:
    retail.change_disposition(rt, world.brand, operation=Operation.DESTROY, codes=[world.codes[7]])
    for code in [*world.codes, generate_code()]:
        v = verification.verify(rt, code)
        assert json.loads(verification.public_json(rt, v)) == verification.public_record(rt, v)


def test_gtin_and_lot_links_describe_the_product_and_the_batch(rt: Runtime, world: World) -> None:
    product = verification.item_record(verification.describe_item(rt, GTIN))
    assert product["batch"] is None and product["product"]["name"]
    batch = verification.item_record(verification.describe_item(rt, GTIN, world.lot))
    assert batch["batch"]["lot"] == world.lot and batch["batch"]["lab_status"] == "passed"
    with pytest.raises(NotFoundError):
        verification.describe_item(rt, GTIN, "NO-SUCH-LOT")


def test_the_public_journey_leaves_out_a_sale_declared_wrong(rt: Runtime, world: World) -> None:
    retail.sell(rt, world.retailer, location_id=world.store, codes=[world.codes[3]])
    steps = [s["step"] for s in verification.public_history(rt, world.codes[3])]
    assert steps == ["commissioning", "shipping", "receiving", "retail_selling"]
    retail.undo_sale(rt, world.retailer, code=world.codes[3], reason="wrong item")
    after = verification.public_history(rt, world.codes[3])
    assert [s["what"] for s in after][-1] == "Back on sale (a sale was taken back)"
    assert "Sold" not in [s["what"] for s in after]  # the sale declared wrong is left out
    assert after[0]["by"] == "brand"
    assert (after[2]["by"], after[2]["city"]) == ("retailer", "Reno")
    assert all(set(s) == {"date", "step", "what", "by", "city"} for s in after)


# --- The scan log and clone detection


def test_every_scan_is_logged_anonymously_when_the_log_is_written(
    rt: Runtime, world: World
) -> None:
    log = scanlog.ScanLog(rt)
    scan(rt, log, world.codes[1], "198.51.100.23", region="US-CA")
    log.record(
        verification.verify(rt, generate_code()), scanlog.describe_origin(rt, "198.51.100.24")
    )
    assert log.pending == 2
    log.close()  # what a server does on shutdown
    assert log.pending == 0
    with rt.db.read() as conn:
        rows = [
            dict(r)
            for r in conn.execute(select(public_scans).order_by(public_scans.c.id)).mappings()
        ]
    assert [r["verdict"] for r in rows] == ["authentic", "unknown"]
    assert rows[0]["unit_id"] is not None and rows[1]["unit_id"] is None
    assert rows[0]["origin"] == rows[1]["origin"]  # the same /24 network
    assert rows[0]["region"] == "CA" and rows[0]["agent"] == "Safari iOS"
    assert not any("198.51" in str(value) for row in rows for value in row.values())


def test_a_sold_unit_scanned_from_too_many_networks_becomes_suspicious(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    log = scanlog.ScanLog(rt)
    sold = world.codes[0]
    for network in range(1, 4):  # three origins: the buyer, a friend, a second phone
        scan(rt, log, sold, f"203.0.{network}.9")
        scan(rt, log, sold, f"203.0.{network}.10")  # the same networks again
    log.flush()
    assert alerts_of(rt, world.brand) == []
    assert verification.verify(rt, sold).verdict is Verdict.AUTHENTIC_ALREADY_SOLD
    scan(rt, log, sold, "203.0.4.9")  # a fourth distinct origin
    log.flush()
    assert alerts_of(rt, world.brand) == [(sold, "many_origins")]
    v = verification.verify(rt, sold)
    assert (v.verdict, v.reason) == (Verdict.SUSPICIOUS, "many_origins")
    # unsold units scanned from anywhere raise nothing of the kind
    for network in range(10, 16):
        scan(rt, log, world.codes[1], f"203.0.{network}.9")
    log.flush()
    assert alerts_of(rt, world.brand) == [(sold, "many_origins")]


def test_origins_outside_the_window_do_not_count_and_investigating_resets(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    log = scanlog.ScanLog(rt)
    sold = world.codes[0]
    for network in range(1, 4):
        scan(rt, log, sold, f"203.0.{network}.9")
    log.flush()
    clock.advance(hours=rt.settings.clone_window_hours + 1)
    scan(rt, log, sold, "203.0.4.9")
    log.flush()
    assert alerts_of(rt, world.brand) == []  # the first three are out of the window
    for network in range(5, 8):
        scan(rt, log, sold, f"203.0.{network}.9")
    log.flush()
    (alert,) = support.list_alerts(rt, world.brand).items
    support.investigate_alert(rt, world.brand, alert.id, note="buyer shared photos")
    assert verification.verify(rt, sold).verdict is Verdict.AUTHENTIC_ALREADY_SOLD
    scan(rt, log, sold, "203.0.9.9")  # one more scan: only scans after the investigation count
    log.flush()
    assert alerts_of(rt, world.brand) == []


def test_a_scan_outside_every_market_the_unit_went_to_is_flagged(rt: Runtime, world: World) -> None:
    log = scanlog.ScanLog(rt)
    scan(rt, log, world.codes[1], "198.51.100.1", region="US-CA")  # the brand's market
    scan(rt, log, world.codes[1], "198.51.100.2", region="US-NV")  # shipped to a store there
    scan(rt, log, world.codes[5], "198.51.100.3", region="US-NV")  # never left the brand
    scan(rt, log, world.codes[2], "198.51.100.4", region="US-OR")  # nobody took it there
    log.flush()
    assert alerts_of(rt, world.brand) == sorted(
        [(world.codes[5], "foreign_market"), (world.codes[2], "foreign_market")]
    )
    (alert,) = [a for a in support.list_alerts(rt, world.brand).items if a.code == world.codes[2]]
    assert "OR" in alert.detail


def test_scanning_a_destroyed_code_raises_one_alert_however_often(
    rt: Runtime, world: World
) -> None:
    retail.change_disposition(rt, world.brand, operation=Operation.DESTROY, codes=[world.codes[6]])
    log = scanlog.ScanLog(rt)
    for n in range(3):
        scan(rt, log, world.codes[6], f"198.51.{n}.1")
    log.flush()
    scan(rt, log, world.codes[6], "198.51.9.1")
    log.flush()
    assert alerts_of(rt, world.brand) == [(world.codes[6], "destroyed_code")]
    assert verification.verify(rt, world.codes[6]).verdict is Verdict.DESTROYED


def test_retention_deletes_old_scans_and_erases_old_contacts(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    log = scanlog.ScanLog(rt)
    scan(rt, log, world.codes[1], "198.51.100.1")
    log.flush()
    support.register_purchase(rt, world.codes[0], support.Contact("Ann", "ann@example.org", True))
    clock.advance(days=rt.settings.scan_retention_days + 1)
    scan(rt, log, world.codes[1], "198.51.100.1")
    log.flush()
    result = scanlog.purge(rt)
    assert (result.scans, result.contacts) == (1, 0)
    with rt.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(public_scans)).scalar_one() == 1
    clock.advance(days=rt.settings.contact_retention_days)
    assert scanlog.purge(rt).contacts == 1
    with rt.db.read() as conn:
        row = conn.execute(select(purchase_registrations)).mappings().one()
        assert row["contact_email"] is None and row["contact_name"] is None
        assert row["contact_purged_at"] is not None and row["reference"]


# --- Proof of purchase and problem reports


def test_only_a_sold_unit_is_registered_and_only_once(rt: Runtime, world: World) -> None:
    with pytest.raises(ConflictError):
        support.register_purchase(rt, world.codes[1], support.Contact())
    reg = support.register_purchase(rt, world.codes[0], support.Contact())
    assert reg.sold_city == "Reno" and len(reg.reference) == 12 and not reg.has_contact
    proof = support.proof_of_purchase(rt, world.codes[0], reg.reference.lower())
    assert proof.reference == reg.reference
    with pytest.raises(NotFoundError):
        support.proof_of_purchase(rt, world.codes[0], "WRONGREFERENC")
    with pytest.raises(ConflictError):
        support.register_purchase(rt, world.codes[0], support.Contact())


def test_two_racing_registrations_of_one_unit_make_one(rt: Runtime, world: World) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        barrier.wait()
        try:
            support.register_purchase(rt, world.codes[0], support.Contact())
            outcomes.append("registered")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["registered"]
    with rt.db.read() as conn:
        assert (
            conn.execute(select(func.count()).select_from(purchase_registrations)).scalar_one() == 1
        )


def test_contact_details_need_consent_and_a_real_address(rt: Runtime, world: World) -> None:
    with pytest.raises(ValidationError, match="consent"):
        support.register_purchase(rt, world.codes[0], support.Contact(email="ann@example.org"))
    with pytest.raises(ValidationError, match="not an email"):
        support.register_purchase(rt, world.codes[0], support.Contact(email="ann", consent=True))
    with rt.db.read() as conn:
        assert (
            conn.execute(select(func.count()).select_from(purchase_registrations)).scalar_one() == 0
        )


def test_a_report_lands_in_the_brands_inbox_linked_to_the_unit(rt: Runtime, world: World) -> None:
    origin = scanlog.describe_origin(rt, "198.51.100.7", IPHONE)
    report_id = support.report_problem(
        rt, world.codes[0], kind="adverse_reaction", message="  Headache after use  ",
        contact=support.Contact("Bo", "bo@example.org", True), origin=origin,
    )  # fmt: skip
    case = support.get_report(rt, world.brand, report_id)
    assert case.report.message == "Headache after use"
    assert (case.report.code, case.report.lot_number) == (world.codes[0], world.lot)
    assert case.report.contact_email == "bo@example.org"
    assert case.verification["verdict"] == "authentic_already_sold"
    assert [e.biz_step for e in case.timeline][-1] == "retail_selling"
    other_brand = make_org(rt)
    with pytest.raises(NotFoundError):
        support.get_report(rt, other_brand, report_id)


@pytest.mark.parametrize(
    ("kind", "message", "match"),
    [
        ("fire", "x", "unknown problem kind"),
        ("damaged", "   ", "describe"),
        ("damaged", "x" * 2001, "2001"),
    ],
)
def test_a_bad_report_is_refused_and_nothing_is_stored(
    rt: Runtime, world: World, kind: str, message: str, match: str
) -> None:
    origin = scanlog.describe_origin(rt, "198.51.100.7")
    with pytest.raises(ValidationError, match=match):
        support.report_problem(
            rt, world.codes[0], kind=kind, message=message, contact=support.Contact(), origin=origin
        )
    with rt.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(problem_reports)).scalar_one() == 0


def test_one_origin_may_report_a_unit_three_times_a_day(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    origin = scanlog.describe_origin(rt, "198.51.100.7")
    for _ in range(support.REPORTS_PER_ORIGIN_PER_DAY):
        support.report_problem(
            rt, world.codes[1], kind="other", message="hi", contact=support.Contact(), origin=origin
        )
    with pytest.raises(RateLimitedError):
        support.report_problem(
            rt, world.codes[1], kind="other", message="hi", contact=support.Contact(), origin=origin
        )
    elsewhere = scanlog.describe_origin(rt, "192.0.2.7")
    support.report_problem(
        rt, world.codes[1], kind="other", message="hi", contact=support.Contact(), origin=elsewhere
    )
    clock.advance(days=1, seconds=1)
    support.report_problem(
        rt, world.codes[1], kind="other", message="hi", contact=support.Contact(), origin=origin
    )


def test_a_unit_marked_lost_answers_suspicious_and_its_scans_raise_a_lost_code_alert(
    rt: Runtime, world: World
) -> None:
    retail.change_disposition(
        rt, world.brand, operation=Operation.MARK_LOST, codes=[world.codes[6]]
    )
    lost = verification.verify(rt, world.codes[6])
    assert (lost.verdict, lost.reason) == (Verdict.SUSPICIOUS, "lost_code")
    log = scanlog.ScanLog(rt)
    scan(rt, log, world.codes[6], "198.51.100.7")
    log.flush()
    assert alerts_of(rt, world.brand) == [(world.codes[6], "lost_code")]
    # found again: the open alert still warns until the brand has looked into it
    retail.change_disposition(
        rt, world.brand, operation=Operation.MARK_FOUND, codes=[world.codes[6]]
    )
    assert verification.verify(rt, world.codes[6]).reason == "lost_code"
    (alert,) = support.list_alerts(rt, world.brand).items
    support.investigate_alert(rt, world.brand, alert.id, note="found in the back room")
    assert verification.verify(rt, world.codes[6]).verdict is Verdict.AUTHENTIC
