"""Commissioning units: released batches only, exactly once, scoped to the brand."""

from __future__ import annotations

import threading

import pytest

from tests.factories import as_role, make_batch, make_org
from unitrace.domain.codes import is_valid
from unitrace.domain.model import Disposition, LabStatus, Role
from unitrace.errors import (
    BatchNotReleasedError,
    IdempotencyKeyReusedError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from unitrace.services import catalog, organizations, serialization, units
from unitrace.services.catalog import LabResultsDraft
from unitrace.services.runtime import Runtime


def codes_of(rt: Runtime, principal, event_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return list(serialization.iter_commissioned_codes(rt, principal, event_id=event_id))


def test_commissioning_creates_that_many_active_units_with_valid_distinct_codes(
    rt: Runtime,
) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    result = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=1234)
    codes = codes_of(rt, brand, result.event_id)
    assert len(codes) == 1234 == len(set(codes))
    assert all(is_valid(c) for c in codes)
    page = units.list_units(rt, brand, batch_id=batch.id, limit=500)
    assert page.total == 1234
    assert {v.unit.disposition for v in page.items} == {Disposition.ACTIVE}
    assert {v.unit.custodian_organization_id for v in page.items} == {brand.organization_id}
    assert catalog.get_batch(rt, brand, batch.id).unit_count == 1234


def test_a_commissioning_spanning_several_chunks_reports_progress_up_to_the_total(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serialization, "CHUNK", 1000)
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    seen: list[tuple[int, int]] = []
    serialization.commission_units(
        rt, brand, batch_id=batch.id, quantity=3500, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1000, 3500), (2000, 3500), (3000, 3500), (3500, 3500)]
    assert units.list_units(rt, brand, batch_id=batch.id, limit=1).total == 3500


@pytest.mark.parametrize("status", [LabStatus.PENDING, LabStatus.FAILED])
def test_a_batch_that_has_not_passed_testing_cannot_be_serialized(
    rt: Runtime, status: LabStatus
) -> None:
    brand = make_org(rt)
    lab = LabResultsDraft(status=status, lab_name="Lab", tested_on=None)
    if status is LabStatus.FAILED:
        lab = LabResultsDraft(status=status, lab_name="Lab", tested_on=rt.clock().date())
    batch = make_batch(rt, brand, lab=lab)
    with pytest.raises(BatchNotReleasedError, match=status.value):
        serialization.commission_units(rt, brand, batch_id=batch.id, quantity=5)
    assert units.list_units(rt, brand, limit=1).total == 0


def test_a_batch_released_by_a_later_lab_result_can_then_be_serialized(rt: Runtime) -> None:
    from tests.factories import passed_lab

    brand = make_org(rt)
    batch = make_batch(rt, brand, lab=LabResultsDraft(status=LabStatus.PENDING))
    catalog.record_lab_results(rt, brand, batch_id=batch.id, lab=passed_lab())
    result = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=3)
    assert result.quantity == 3


def test_another_organizations_batch_is_reported_as_not_found(rt: Runtime) -> None:
    brand = make_org(rt)
    other = make_org(rt)
    batch = make_batch(rt, brand)
    with pytest.raises(NotFoundError) as foreign:
        serialization.commission_units(rt, other, batch_id=batch.id, quantity=5)
    with pytest.raises(NotFoundError) as unknown:
        serialization.commission_units(rt, other, batch_id=999_999, quantity=5)
    assert str(foreign.value).replace(str(batch.id), "N") == str(unknown.value).replace(
        "999999", "N"
    )
    assert units.list_units(rt, brand, limit=1).total == 0


@pytest.mark.parametrize("quantity", [0, -1, 100_001])
def test_quantities_out_of_bounds_are_refused(rt: Runtime, quantity: int) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    with pytest.raises(ValidationError, match="quantity must be between 1 and 100,000"):
        serialization.commission_units(rt, brand, batch_id=batch.id, quantity=quantity)


def test_a_viewer_cannot_commission(rt: Runtime) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    with pytest.raises(PermissionDeniedError):
        serialization.commission_units(
            rt, as_role(brand, Role.VIEWER), batch_id=batch.id, quantity=1
        )


def test_retrying_with_the_same_idempotency_key_returns_the_first_result_and_creates_nothing(
    rt: Runtime,
) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    first = serialization.commission_units(
        rt, brand, batch_id=batch.id, quantity=50, idempotency_key="order-17"
    )
    again = serialization.commission_units(
        rt, brand, batch_id=batch.id, quantity=50, idempotency_key="order-17"
    )
    assert not first.replayed and again.replayed
    assert again.event_id == first.event_id and again.commissioned_at == first.commissioned_at
    assert units.list_units(rt, brand, batch_id=batch.id, limit=1).total == 50


def test_the_same_idempotency_key_with_a_different_request_is_refused(rt: Runtime) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    serialization.commission_units(rt, brand, batch_id=batch.id, quantity=5, idempotency_key="k")
    with pytest.raises(IdempotencyKeyReusedError):
        serialization.commission_units(
            rt, brand, batch_id=batch.id, quantity=6, idempotency_key="k"
        )
    assert units.list_units(rt, brand, batch_id=batch.id, limit=1).total == 5


def test_idempotency_keys_are_scoped_to_the_organization(rt: Runtime) -> None:
    a, b = make_org(rt), make_org(rt)
    batch_a, batch_b = make_batch(rt, a), make_batch(rt, b)
    ra = serialization.commission_units(
        rt, a, batch_id=batch_a.id, quantity=2, idempotency_key="same"
    )
    rb = serialization.commission_units(
        rt, b, batch_id=batch_b.id, quantity=2, idempotency_key="same"
    )
    assert ra.event_id != rb.event_id and not rb.replayed


def test_concurrent_retries_with_one_key_create_exactly_one_set_of_units(rt: Runtime) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    results, failures = [], []

    def attempt() -> None:
        try:
            results.append(
                serialization.commission_units(
                    rt, brand, batch_id=batch.id, quantity=2000, idempotency_key="burst"
                )
            )
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len({r.event_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert units.list_units(rt, brand, batch_id=batch.id, limit=1).total == 2000


def test_a_failure_mid_way_leaves_nothing_behind(rt: Runtime) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    calls = 0

    def explode(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("printer on fire")

    with pytest.raises(RuntimeError):
        serialization.commission_units(
            rt, brand, batch_id=batch.id, quantity=10, idempotency_key="x", progress=explode
        )
    assert calls == 1
    assert units.list_units(rt, brand, limit=1).total == 0
    # the key was not consumed: a retry works
    assert (
        serialization.commission_units(
            rt, brand, batch_id=batch.id, quantity=10, idempotency_key="x"
        ).replayed
        is False
    )


def test_a_code_collision_starts_over_with_fresh_codes_never_duplicated(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    first = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=3)
    taken = codes_of(rt, brand, first.event_id)
    real = serialization.generate_codes
    calls: list[int] = []

    def colliding(n: int) -> list[str]:
        calls.append(n)
        fresh = real(n)
        return taken[: min(2, n)] + fresh[2:] if len(calls) == 1 else fresh

    monkeypatch.setattr(serialization, "generate_codes", colliding)
    second = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=10)
    new_codes = codes_of(rt, brand, second.event_id)
    assert len(new_codes) == 10 and not set(new_codes) & set(taken)
    assert calls == [10, 10]  # the event names its codes, so the whole request starts over
    assert units.list_units(rt, brand, batch_id=batch.id, limit=1).total == 13


def test_commissioning_at_a_location_of_another_organization_is_refused(rt: Runtime) -> None:
    brand, other = make_org(rt), make_org(rt)
    batch = make_batch(rt, brand)
    foreign = organizations.list_locations(rt, other)[0]
    with pytest.raises(NotFoundError):
        serialization.commission_units(
            rt, brand, batch_id=batch.id, quantity=1, location_id=foreign.id
        )
    own = organizations.list_locations(rt, brand)[0]
    result = serialization.commission_units(
        rt, brand, batch_id=batch.id, quantity=1, location_id=own.id
    )
    view = units.get_unit(rt, brand, codes_of(rt, brand, result.event_id)[0])
    assert view.unit.location_id == own.id and view.location_name == own.name
