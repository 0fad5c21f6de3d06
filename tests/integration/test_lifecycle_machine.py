"""Random operation sequences through the services, checked against a model.

A Hypothesis ``RuleBasedStateMachine`` packs, unpacks, ships, receives, voids, sells,
returns, destroys, marks lost and found again and moves between locations a handful of
units between a brand, a distributor and a retailer with two stores, calling the real
services on a real database. The model predicts each outcome with the pure lifecycle table
(``domain.lifecycle.allowed``) plus the custody facts it
tracks; after every step the database must match the model, and the invariants must hold:
a unit is in at most one container and one place, a sold unit is never sold again, a
destroyed or lost unit is never sellable, a unit is where it was last received, returned or
moved, and the organizations' event chains verify.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text

from tests.conftest import NOW
from tests.factories import make_batch, make_location
from unitrace.adapters.clock import FixedClock
from unitrace.adapters.files import FileStore
from unitrace.config import Settings
from unitrace.domain.lifecycle import RULES, Operation, allowed, sellable
from unitrace.domain.model import Disposition, LocationKind, OrganizationKind, Principal, Role
from unitrace.domain.recalls import Scope
from unitrace.errors import ConflictError, NotFoundError, OperationRefusedError, UnitraceError
from unitrace.services import (
    audit,
    containers,
    organizations,
    recalls,
    relocation,
    retail,
    serialization,
    shipments,
)
from unitrace.services.runtime import Runtime
from unitrace.storage.engine import Database
from unitrace.storage.schema import containers as containers_table
from unitrace.storage.schema import metadata, units

D = Disposition
UNITS = 5


@dataclass
class UnitModel:
    code: str
    disposition: Disposition = D.ACTIVE
    custodian: int = 0
    location: int | None = None
    case: int | None = None  # index into the model's cases
    shipment: int | None = None
    before_shipping: Disposition | None = None
    sold_at: int | None = None  # store location
    before_recall: Disposition | None = None
    before_lost: Disposition | None = None


@dataclass
class CaseModel:
    code: str
    owner: int
    holder: int
    in_transit: bool = False


@dataclass
class ShipmentModel:
    id: int
    shipper: int
    destination: int
    location: int
    items: list[tuple[str, int]]  # ("unit" | "case", index)
    state: str = "shipped"


@dataclass
class World:
    rt: Runtime
    orgs: dict[str, Principal]
    kinds: dict[int, OrganizationKind]
    places: dict[str, int]
    stores: tuple[int, int]
    units: list[UnitModel] = field(default_factory=list)
    cases: list[CaseModel] = field(default_factory=list)
    shipments: list[ShipmentModel] = field(default_factory=list)


class Backends:
    """Where each example's fresh database comes from (set by the test below)."""

    sqlite_template: Path | None = None
    postgres_url: str | None = None


def _empty_postgres(url: str) -> None:
    db = Database.from_url(Settings(database_url=url).sqlalchemy_url)
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with db.transaction() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()


def _fresh_runtime(tmp: Path) -> Runtime:
    if Backends.postgres_url is None:
        assert Backends.sqlite_template is not None
        path = tmp / "machine.db"
        shutil.copy(Backends.sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = Backends.postgres_url
        _empty_postgres(url)
    app = Settings(database_url=url, data_dir=tmp / "data", resolver_base_url="https://id.test")
    return Runtime(
        settings=app,
        db=Database.from_url(app.sqlalchemy_url),
        files=FileStore(tmp / "files"),
        clock=FixedClock(NOW),
    )


def _org(rt: Runtime, kind: OrganizationKind) -> Principal:
    """An organization and an admin principal, without a user (no password hashing: fast)."""
    org = organizations.create_organization(
        rt, organizations.OrganizationDraft(f"The {kind.value}", kind, f"LIC-{kind.value}", "CA")
    )
    return Principal(org.id, Role.ADMIN, display=f"{kind.value}@machine")


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="unitrace-machine-"))
        rt = _fresh_runtime(self.tmp)
        brand = _org(rt, OrganizationKind.BRAND)
        distributor = _org(rt, OrganizationKind.DISTRIBUTOR)
        retailer = _org(rt, OrganizationKind.RETAILER)
        stores = (make_location(rt, retailer), make_location(rt, retailer))
        warehouse = make_location(rt, distributor, LocationKind.WAREHOUSE)
        depot = make_location(rt, distributor, LocationKind.WAREHOUSE)
        orgs = {"brand": brand, "distributor": distributor, "retailer": retailer}
        kinds = {
            brand.organization_id: OrganizationKind.BRAND,
            distributor.organization_id: OrganizationKind.DISTRIBUTOR,
            retailer.organization_id: OrganizationKind.RETAILER,
        }
        places = {"warehouse": warehouse, "depot": depot, "store": stores[0]}
        places["other_store"] = stores[1]
        self.w = World(rt, orgs, kinds, places, stores)
        batch = make_batch(rt, brand)
        made = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=UNITS)
        codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=made.event_id))
        self.w.units = [UnitModel(code, custodian=brand.organization_id) for code in codes]
        self.recall_of: dict[str, int] = {}  # unit code -> the recall that flagged it

    def teardown(self) -> None:
        for org in self.w.orgs.values():
            report = audit.verify_chain(self.w.rt, org)
            assert report.ok, report.broken
        self.w.rt.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ------------------------------------------------------------------------

    def _org(self, name: str) -> Principal:
        return self.w.orgs[name]

    def _actor(self, data: st.DataObject, organization_id: int) -> Principal:
        """Mostly the organization that should act; sometimes anyone (to test refusals)."""
        if data.draw(st.sampled_from([True, True, True, False]), label="right actor"):
            return next(p for p in self.w.orgs.values() if p.organization_id == organization_id)
        return self._org(data.draw(st.sampled_from(sorted(self.w.orgs)), label="actor"))

    def _pick_shipment(self, data: st.DataObject) -> int:
        """Mostly a shipment still in transit, when there is one."""
        open_ = [i for i, sh in enumerate(self.w.shipments) if sh.state == "shipped"]
        if open_ and data.draw(st.sampled_from([True, True, True, False]), label="open"):
            return open_[data.draw(st.integers(0, len(open_) - 1), label="open shipment")]
        return data.draw(st.integers(0, len(self.w.shipments) - 1), label="shipment")

    def _pick_unit(self, data: st.DataObject, wanted: set[Disposition]) -> UnitModel:
        """Mostly a unit in one of the ``wanted`` dispositions, when there is one."""
        fitting = [u for u in self.w.units if u.disposition in wanted]
        if fitting and data.draw(st.sampled_from([True, True, True, False]), label="fitting"):
            return fitting[data.draw(st.integers(0, len(fitting) - 1), label="fitting unit")]
        return self.w.units[data.draw(st.integers(0, UNITS - 1), label="unit")]

    def _visible(self, unit: UnitModel, org: int) -> bool:
        return org in (self.w.orgs["brand"].organization_id, unit.custodian)

    def _attempt(self, expected_ok: bool, call: object) -> object | None:
        """Run ``call``; it must succeed exactly when the model says so."""
        before = self._snapshot()
        refusal: UnitraceError | None = None
        try:
            result = call()  # type: ignore[operator]
        except (NotFoundError, OperationRefusedError, ConflictError) as exc:
            refusal = exc
        if refusal is not None:
            event(f"refused: {type(refusal).__name__}")
            assert not expected_ok, f"refused but the model allows it: {refusal.message}"
            assert self._snapshot() == before, "a refused operation changed the database"
            return None
        event(f"done: {getattr(call, '__qualname__', 'call').split('.')[1]}")
        assert expected_ok, "allowed but the model refuses it"
        return result

    def _snapshot(self) -> list[tuple[object, ...]]:
        with self.w.rt.db.read() as conn:
            rows = conn.execute(
                select(
                    units.c.code,
                    units.c.disposition,
                    units.c.custodian_organization_id,
                    units.c.location_id,
                    units.c.parent_container_id,
                    units.c.shipment_id,
                ).order_by(units.c.code)
            ).all()
        return [tuple(r) for r in rows]

    def _in_stock(self, unit: UnitModel) -> bool:
        return unit.disposition in (D.ACTIVE, D.SELLABLE_ACCESSIBLE) and unit.shipment is None

    # -- rules --------------------------------------------------------------------------

    @rule(holder=st.sampled_from(["brand", "distributor", "retailer"]))
    def create_case(self, holder: str) -> None:
        if len(self.w.cases) >= 3:
            return
        org = self._org(holder)
        (made,) = containers.create_containers(self.w.rt, org, kind="case")
        self.w.cases.append(CaseModel(made.code, org.organization_id, org.organization_id))

    @precondition(lambda self: self.w.cases)
    @rule(data=st.data())
    def pack(self, data: st.DataObject) -> None:
        case_index = data.draw(st.integers(0, len(self.w.cases) - 1))
        unit_index = data.draw(st.integers(0, UNITS - 1))
        case, unit = self.w.cases[case_index], self.w.units[unit_index]
        org = self._actor(data, case.holder)
        me = org.organization_id
        ok = (
            case.holder == me
            and not case.in_transit
            and unit.custodian == me
            and self._in_stock(unit)
            and unit.case != case_index
        )
        call = lambda: containers.pack(  # noqa: E731
            self.w.rt, org, container=case.code, items=[unit.code]
        )
        if self._attempt(ok, call) is not None:
            unit.case = case_index

    @precondition(lambda self: any(u.case is not None for u in self.w.units))
    @rule(data=st.data())
    def unpack(self, data: st.DataObject) -> None:
        packed = [i for i, u in enumerate(self.w.units) if u.case is not None]
        unit = self.w.units[data.draw(st.sampled_from(packed))]
        assert unit.case is not None
        case = self.w.cases[unit.case]
        org = self._actor(data, case.holder)
        me = org.organization_id
        ok = case.holder == me and unit.custodian == me and self._in_stock(unit)
        ok = ok and not case.in_transit
        call = lambda: containers.unpack(  # noqa: E731
            self.w.rt, org, container=case.code, items=[unit.code]
        )
        if self._attempt(ok, call) is not None:
            unit.case = None

    @rule(data=st.data(), to=st.sampled_from(["distributor", "store", "other_store"]))
    def ship(self, data: st.DataObject, to: str) -> None:
        unit = self._pick_unit(data, {D.ACTIVE, D.SELLABLE_ACCESSIBLE})
        org = self._actor(data, unit.custodian)
        me = org.organization_id
        use_case = bool(self.w.cases) and data.draw(st.booleans())
        if use_case:
            index = data.draw(st.integers(0, len(self.w.cases) - 1))
            case = self.w.cases[index]
            inside = [u for u in self.w.units if u.case == index]
            item = ("case", index)
            code = case.code
            ok = (
                case.holder == me
                and not case.in_transit
                and all(u.custodian == me and self._in_stock(u) for u in inside)
            )
        else:
            index = self.w.units.index(unit)
            inside = [unit]
            item, code = ("unit", index), unit.code
            ok = unit.custodian == me and self._in_stock(unit) and unit.case is None
        ok = ok and self.w.kinds[me] is not OrganizationKind.RETAILER
        destination = self._org("distributor" if to == "distributor" else "retailer")
        location = {
            "distributor": self.w.places["warehouse"],
            "store": self.w.stores[0],
            "other_store": self.w.stores[1],
        }[to]

        def call() -> shipments.ShipmentView:
            draft = shipments.create_shipment(
                self.w.rt,
                org,
                destination_organization_id=destination.organization_id,
                destination_location_id=location,
                items=[code],
            )
            return shipments.ship(self.w.rt, org, draft.id)

        shipped = self._attempt(ok, call)
        if shipped is None:
            return
        assert isinstance(shipped, shipments.ShipmentView)
        number = len(self.w.shipments)
        self.w.shipments.append(
            ShipmentModel(shipped.id, me, destination.organization_id, location, [item])
        )
        for unit in inside:
            unit.before_shipping, unit.disposition = unit.disposition, D.IN_TRANSIT
            unit.shipment = number
        if use_case:
            self.w.cases[index].in_transit = True

    def _moving(self, number: int) -> tuple[list[UnitModel], list[CaseModel]]:
        boxes = [i for kind, i in self.w.shipments[number].items if kind == "case"]
        moving = [u for u in self.w.units if u.shipment == number]
        return moving, [self.w.cases[i] for i in boxes]

    @precondition(lambda self: self.w.shipments)
    @rule(data=st.data())
    def receive(self, data: st.DataObject) -> None:
        number = self._pick_shipment(data)
        shipment = self.w.shipments[number]
        org = self._actor(data, shipment.destination)
        ok = shipment.state == "shipped" and shipment.destination == org.organization_id
        moving, boxes = self._moving(number)
        codes = [
            self.w.cases[i].code if k == "case" else self.w.units[i].code for k, i in shipment.items
        ]

        def call() -> shipments.ReceiptReport:
            return shipments.receive(self.w.rt, org, shipment.id, scans=codes)

        report = self._attempt(ok, call)
        if report is None:
            return
        shipment.state = "received"
        for unit in moving:
            if unit.disposition is D.RECALLED:  # received, and still recalled
                unit.before_recall = D.SELLABLE_ACCESSIBLE
            else:
                unit.disposition = D.SELLABLE_ACCESSIBLE
            unit.custodian = shipment.destination
            unit.location, unit.shipment, unit.before_shipping = shipment.location, None, None
        for case in boxes:
            case.holder, case.in_transit = shipment.destination, False

    @precondition(lambda self: self.w.shipments)
    @rule(data=st.data())
    def void(self, data: st.DataObject) -> None:
        if data.draw(st.integers(0, 2), label="void now") != 0:  # rarer than receiving
            return
        number = self._pick_shipment(data)
        shipment = self.w.shipments[number]
        org = next(p for p in self.w.orgs.values() if p.organization_id == shipment.shipper)
        moving, boxes = self._moving(number)
        ok = shipment.state == "shipped" and bool(moving or [b for b in boxes if b.in_transit])
        if self._attempt(ok, lambda: shipments.void_shipment(self.w.rt, org, shipment.id)) is None:
            return
        shipment.state = "voided"
        for unit in moving:
            assert unit.before_shipping is not None
            if unit.disposition is D.RECALLED:  # back with the shipper, still recalled
                unit.before_recall = unit.before_shipping
            else:
                unit.disposition = unit.before_shipping
            unit.before_shipping, unit.shipment = None, None
        for case in boxes:
            case.in_transit = False

    @rule(data=st.data(), store=st.sampled_from([0, 1]))
    def sell(self, data: st.DataObject, store: int) -> None:
        unit = self._pick_unit(data, {D.SELLABLE_ACCESSIBLE, D.RETAIL_SOLD})
        if unit.location in self.w.stores and data.draw(st.booleans(), label="its store"):
            store = self.w.stores.index(unit.location)
        org = self._org("retailer")
        me = org.organization_id
        decision = allowed(
            Operation.SELL,
            disposition=unit.disposition,
            actor_kind=OrganizationKind.RETAILER,
            actor_is_custodian=unit.custodian == me,
            actor_is_owner=False,
            at_store=True,
        )
        ok = decision.ok and unit.location == self.w.stores[store]
        was_sold = unit.disposition is D.RETAIL_SOLD
        call = lambda: retail.sell(  # noqa: E731
            self.w.rt, org, location_id=self.w.stores[store], codes=[unit.code]
        )
        if self._attempt(ok, call) is None:
            return
        assert not was_sold, "a sold unit was sold again"
        unit.disposition, unit.case, unit.sold_at = D.RETAIL_SOLD, None, self.w.stores[store]

    @rule(data=st.data(), store=st.sampled_from([0, 1]), restock=st.booleans())
    def return_unit(self, data: st.DataObject, store: int, restock: bool) -> None:
        unit = self._pick_unit(data, {D.RETAIL_SOLD})
        org = self._org("retailer")
        ok = unit.disposition is D.RETAIL_SOLD and unit.custodian == org.organization_id
        call = lambda: retail.return_unit(  # noqa: E731
            self.w.rt,
            org,
            location_id=self.w.stores[store],
            code=unit.code,
            action="restock" if restock else "quarantine",
        )
        if self._attempt(ok, call) is None:
            return
        unit.disposition = D.SELLABLE_ACCESSIBLE if restock else D.NON_SELLABLE_OTHER
        unit.location = self.w.stores[store]

    @rule(data=st.data())
    def destroy(self, data: st.DataObject) -> None:
        if data.draw(st.integers(0, 3), label="destroy now") != 0:  # rare: it ends a unit
            return
        unit = self.w.units[data.draw(st.integers(0, UNITS - 1))]
        org = self._actor(data, unit.custodian)
        me = org.organization_id
        decision = allowed(
            Operation.DESTROY,
            disposition=unit.disposition,
            actor_kind=self.w.kinds[me],
            actor_is_custodian=unit.custodian == me,
            actor_is_owner=me == self._org("brand").organization_id,
            at_store=False,
        )
        ok = decision.ok
        call = lambda: retail.change_disposition(  # noqa: E731
            self.w.rt, org, operation=Operation.DESTROY, codes=[unit.code], reason="test"
        )
        if self._attempt(ok, call) is None:
            return
        unit.disposition, unit.case, unit.shipment = D.DESTROYED, None, None

    @rule(data=st.data())
    def recall(self, data: st.DataObject) -> None:
        if data.draw(st.integers(0, 2), label="recall now") != 0:
            return
        unit = self.w.units[data.draw(st.integers(0, UNITS - 1), label="recalled unit")]
        brand = self._org("brand")
        draft = recalls.RecallDraft("Recall", "test", "II", Scope(unit_codes=(unit.code,)))
        recall = recalls.create_recall(self.w.rt, brand, draft)
        done = recalls.activate(self.w.rt, brand, recall.id)
        flags = unit.disposition in RULES[Operation.RECALL].sources
        assert (done.units, done.flagged) == (1, 1 if flags else 0), unit
        if flags:
            unit.before_recall, unit.disposition = unit.disposition, D.RECALLED
            self.recall_of[unit.code] = recall.id

    @precondition(lambda self: self.recall_of)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        code = data.draw(st.sampled_from(sorted(self.recall_of)), label="released unit")
        unit = next(u for u in self.w.units if u.code == code)
        ok = unit.disposition is D.RECALLED
        call = lambda: recalls.release(  # noqa: E731
            self.w.rt, self._org("brand"), self.recall_of[code], reason="test", codes=[code]
        )
        if self._attempt(ok, call) is None:
            return
        assert unit.before_recall is not None
        unit.disposition, unit.before_recall = unit.before_recall, None
        del self.recall_of[code]

    def _custody_allows(self, operation: Operation, unit: UnitModel, me: int) -> bool:
        return allowed(
            operation,
            disposition=unit.disposition,
            actor_kind=self.w.kinds[me],
            actor_is_custodian=unit.custodian == me,
            actor_is_owner=me == self._org("brand").organization_id,
            at_store=unit.location in self.w.stores,
        ).ok

    @rule(data=st.data())
    def mark_lost(self, data: st.DataObject) -> None:
        unit = self._pick_unit(data, set(RULES[Operation.MARK_LOST].sources))
        org = self._actor(data, unit.custodian)
        ok = self._custody_allows(Operation.MARK_LOST, unit, org.organization_id)
        call = lambda: retail.change_disposition(  # noqa: E731
            self.w.rt, org, operation=Operation.MARK_LOST, codes=[unit.code], reason="count"
        )
        if self._attempt(ok, call) is not None:
            unit.before_lost, unit.disposition = unit.disposition, D.UNKNOWN

    @rule(data=st.data())
    def mark_found(self, data: st.DataObject) -> None:
        unit = self._pick_unit(data, {D.UNKNOWN})
        org = self._actor(data, unit.custodian)
        ok = self._custody_allows(Operation.MARK_FOUND, unit, org.organization_id)
        call = lambda: retail.change_disposition(  # noqa: E731
            self.w.rt, org, operation=Operation.MARK_FOUND, codes=[unit.code], reason="count"
        )
        if self._attempt(ok, call) is not None:
            assert unit.before_lost is not None
            unit.disposition, unit.before_lost = unit.before_lost, None

    @rule(data=st.data())
    def relocate(self, data: st.DataObject) -> None:
        """Mostly a unit a distributor or the retailer holds loose, to another of its
        locations; sometimes anything anywhere (to test refusals)."""
        brand = self._org("brand").organization_id
        movable = [
            u
            for u in self.w.units
            if u.disposition in RULES[Operation.RELOCATE].sources
            and u.custodian != brand
            and u.case is None
            and u.shipment is None
        ]
        if movable and data.draw(st.sampled_from([True, True, True, False]), label="movable"):
            unit = movable[data.draw(st.integers(0, len(movable) - 1), label="movable unit")]
        else:
            unit = self._pick_unit(data, set(RULES[Operation.RELOCATE].sources))
        org = self._actor(data, unit.custodian)
        me = org.organization_id
        own = {
            self._org("distributor").organization_id: ["warehouse", "depot"],
            self._org("retailer").organization_id: ["store", "other_store"],
        }.get(me, [])
        if own and data.draw(st.sampled_from([True, True, True, False]), label="own place"):
            to = data.draw(st.sampled_from(own), label="to")
        else:
            to = data.draw(st.sampled_from(sorted(self.w.places)), label="anywhere")
        place = self.w.places[to]
        owner = self._org("distributor" if to in ("warehouse", "depot") else "retailer")
        ok = (
            self._custody_allows(Operation.RELOCATE, unit, me)
            and owner.organization_id == me
            and unit.case is None
            and unit.shipment is None
            and unit.location != place
        )
        call = lambda: relocation.relocate(  # noqa: E731
            self.w.rt, org, codes=[unit.code], location_id=place
        )
        if self._attempt(ok, call) is not None:
            unit.location = place

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def database_matches_model(self) -> None:
        with self.w.rt.db.read() as conn:
            case_codes = dict(
                conn.execute(select(containers_table.c.id, containers_table.c.code)).all()
            )
            rows = {
                r.code: r
                for r in conn.execute(
                    select(
                        units.c.code,
                        units.c.disposition,
                        units.c.custodian_organization_id,
                        units.c.parent_container_id,
                        units.c.location_id,
                    )
                )
            }
        for unit in self.w.units:
            row = rows[unit.code]
            assert row.disposition == unit.disposition.value, unit
            assert row.custodian_organization_id == unit.custodian, unit
            parent = case_codes.get(row.parent_container_id)
            expected = self.w.cases[unit.case].code if unit.case is not None else None
            assert parent == expected, unit
            if unit.location is not None:
                assert row.location_id == unit.location, unit
            if unit.disposition in (D.DESTROYED, D.RECALLED, D.UNKNOWN):
                assert not sellable(unit.disposition)

    @invariant()
    def each_sale_is_matched_by_a_return(self) -> None:
        with self.w.rt.db.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT u.code, e.biz_step, e.disposition FROM events e "
                    "JOIN event_units m ON m.event_row_id = e.id "
                    "JOIN units u ON u.id = m.unit_id "
                    "WHERE e.biz_step IN ('retail_selling', 'receiving') ORDER BY e.id"
                )
            ).all()
        sold: dict[str, int] = {}
        for code, step, disposition in rows:
            if step == "retail_selling":
                sold[code] = sold.get(code, 0) + 1
                assert sold[code] == 1, f"{code} sold twice without a return in between"
            elif disposition == "returned":
                sold[code] = 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_random_operation_sequences_agree_with_the_lifecycle_model(
    backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "postgresql":
        from tests.conftest import POSTGRES_URL

        if not POSTGRES_URL:
            pytest.skip("UNITRACE_TEST_POSTGRES_URL is not set")
        Backends.postgres_url = request.getfixturevalue("postgres_database")
        Backends.sqlite_template = None
    else:
        Backends.sqlite_template = request.getfixturevalue("sqlite_template")
        Backends.postgres_url = None
    try:
        _run(backend)
    finally:  # the worker's database is shared with the tests that follow
        if Backends.postgres_url is not None:
            _empty_postgres(Backends.postgres_url)


def _run(backend: str) -> None:
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=60 if backend == "sqlite" else 15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
