"""Looking units up by code and listing them, always within the caller's organization."""

from __future__ import annotations

import pytest

from tests.factories import make_batch, make_org, make_product
from unitrace.domain.codes import format_code
from unitrace.domain.gs1 import parse_digital_link
from unitrace.domain.model import Disposition
from unitrace.errors import NotFoundError, ValidationError
from unitrace.services import serialization, units
from unitrace.services.runtime import Runtime


def one_code(rt: Runtime, principal, batch_id: int, n: int = 1) -> list[str]:  # type: ignore[no-untyped-def]
    result = serialization.commission_units(rt, principal, batch_id=batch_id, quantity=n)
    return list(serialization.iter_commissioned_codes(rt, principal, event_id=result.event_id))


def test_a_unit_is_found_by_its_code_however_it_was_typed(rt: Runtime) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    code = one_code(rt, brand, batch.id)[0]
    for typed in (code, code.lower(), format_code(code), f"  {format_code(code).lower()}\n"):
        assert units.get_unit(rt, brand, typed).unit.code == code


def test_a_unit_view_carries_short_url_and_digital_link_when_the_product_has_a_gtin(
    rt: Runtime,
) -> None:
    brand = make_org(rt)
    product = make_product(rt, brand, gtin="09506000134352")
    batch = make_batch(rt, brand, product=product, lot_number="AB-12")
    view = units.get_unit(rt, brand, one_code(rt, brand, batch.id)[0])
    assert view.short_url == f"https://id.example.test/{view.unit.code}"
    assert view.digital_link is not None
    link = parse_digital_link(view.digital_link)
    assert (link.gtin, link.lot, link.serial) == ("09506000134352", "AB-12", view.unit.code)
    plain = make_batch(rt, brand)
    assert units.get_unit(rt, brand, one_code(rt, brand, plain.id)[0]).digital_link is None


def test_another_organizations_unit_and_an_unknown_code_are_indistinguishable(
    rt: Runtime,
) -> None:
    brand, other = make_org(rt), make_org(rt)
    code = one_code(rt, brand, make_batch(rt, brand).id)[0]
    unknown = code[:-3] + ("ZZZ" if code[-3:] != "ZZZ" else "YYY")
    with pytest.raises((NotFoundError, ValidationError)):
        units.get_unit(rt, other, unknown)
    with pytest.raises(NotFoundError) as foreign:
        units.get_unit(rt, other, code)
    # a valid-but-unknown code gives the same error text, the code aside
    other_code = one_code(rt, other, make_batch(rt, other).id)[0]
    with pytest.raises(NotFoundError) as mine_elsewhere:
        units.get_unit(rt, brand, other_code)
    assert str(foreign.value).replace(code, "C") == str(mine_elsewhere.value).replace(
        other_code, "C"
    )


def test_a_malformed_code_is_a_specific_validation_error(rt: Runtime) -> None:
    brand = make_org(rt)
    with pytest.raises(ValidationError, match="14"):
        units.get_unit(rt, brand, "ABC")
    code = one_code(rt, brand, make_batch(rt, brand).id)[0]
    swapped = code[:3] + code[4] + code[3] + code[5:]
    if swapped != code:
        with pytest.raises(ValidationError, match="check character"):
            units.get_unit(rt, brand, swapped)


def test_listing_filters_by_batch_product_disposition_commissioning_and_prefix(
    rt: Runtime,
) -> None:
    brand = make_org(rt)
    b1, b2 = make_batch(rt, brand), make_batch(rt, brand)
    codes1 = one_code(rt, brand, b1.id, 30)
    first = serialization.commission_units(rt, brand, batch_id=b2.id, quantity=7)
    serialization.commission_units(rt, brand, batch_id=b2.id, quantity=5)
    assert units.list_units(rt, brand, batch_id=b1.id, limit=100).total == 30
    assert units.list_units(rt, brand, product_id=b2.product_id, limit=100).total == 12
    assert units.list_units(rt, brand, event_id=first.event_id, limit=100).total == 7
    assert units.list_units(rt, brand, disposition=Disposition.RETAIL_SOLD, limit=10).total == 0
    prefix = codes1[0][:3].lower()
    expected = sum(c.startswith(prefix.upper()) for c in codes1)
    matched = units.list_units(rt, brand, batch_id=b1.id, code_prefix=prefix, limit=100)
    assert matched.total == expected and all(
        v.unit.code.startswith(prefix.upper()) for v in matched.items
    )


def test_pages_cover_every_unit_exactly_once_in_a_stable_order(rt: Runtime) -> None:
    brand = make_org(rt)
    batch = make_batch(rt, brand)
    codes = one_code(rt, brand, batch.id, 23)
    seen: list[str] = []
    for offset in range(0, 30, 10):
        page = units.list_units(rt, brand, batch_id=batch.id, limit=10, offset=offset)
        assert page.total == 23 and page.limit == 10 and page.offset == offset
        seen += [v.unit.code for v in page.items]
    assert seen == codes


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (501, 0), (10, -1)])
def test_bad_pagination_is_refused(rt: Runtime, limit: int, offset: int) -> None:
    with pytest.raises(ValidationError):
        units.list_units(rt, make_org(rt), limit=limit, offset=offset)


def test_other_organizations_see_none_of_a_brands_units(rt: Runtime) -> None:
    brand, other = make_org(rt), make_org(rt)
    one_code(rt, brand, make_batch(rt, brand).id, 5)
    assert units.list_units(rt, other, limit=10).total == 0
