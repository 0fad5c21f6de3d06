"""``unitrace pos`` and ``unitrace dispositions``, and the whole chain from the brand's case
and pallet to a sale and a return at the retailer's store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch, make_location, make_org, make_product
from unitrace.domain.gs1 import gtin_check_digit
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import serialization, units
from unitrace.services.runtime import Runtime

RETAILER = "Corner Dispensary"
OTHER = "Elsewhere Dispensary"


@dataclass(frozen=True)
class Shop:
    brand: Principal
    retailer: Principal
    store: int
    codes: list[str]  # six units of the brand; codes[:4] reached the store in a case on a pallet


def as_json(result: Result) -> Any:
    return json.loads(ok(result).stdout)


def _commission(rt: Runtime, brand: Principal, quantity: int) -> list[str]:
    body = "0085001234567"
    product = make_product(rt, brand, gtin=body + gtin_check_digit(body))
    batch = make_batch(rt, brand, product)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=quantity)
    return sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))


def _disposition(rt: Runtime, principal: Principal, code: str) -> str:
    return str(units.get_unit(rt, principal, code).unit.disposition)


@pytest.fixture
def shop(unitrace: Unitrace, rt: Runtime, brand: Principal, tmp_path: Path) -> Shop:
    """The brand packs four units in a case on a pallet and ships the pallet to the store;
    the retailer receives it from a scans file, as a scanner typed them."""
    retailer = make_org(rt, kind=OrganizationKind.RETAILER, name=RETAILER)
    store = make_location(rt, retailer)
    codes = _commission(rt, brand, 6)
    (case,) = as_json(unitrace("containers", "create", "--org", BRAND, "--kind", "case", "--json"))
    (pallet,) = as_json(unitrace("containers", "create", "--org", BRAND, "--kind", "pallet",
                                 "--json"))  # fmt: skip
    ok(unitrace("containers", "pack", case["code"], *codes[:4], "--org", BRAND))
    ok(unitrace("containers", "pack", pallet["code"], case["code"], "--org", BRAND))
    draft = as_json(unitrace("shipments", "create", "--org", BRAND, "--to",
                             str(retailer.organization_id), "--to-location", str(store),
                             pallet["code"], "--json"))  # fmt: skip
    shipped = as_json(unitrace("shipments", "ship", str(draft["id"]), "--org", BRAND, "--json"))
    assert (shipped["status"], shipped["unit_count"]) == ("shipped", 4)
    link = units.get_unit(rt, brand, codes[0]).digital_link
    assert link is not None
    scans = tmp_path / "scans.txt"
    # the pallet's bare code with a scanner's trailing CR; a unit's Digital Link in lower case
    scans.write_bytes(f"{pallet['code']}\r\n{link.lower()}\n".encode())

    received = ok(unitrace("shipments", "receive", str(draft["id"]), "--scans-file", str(scans),
                           "--org", RETAILER))  # fmt: skip

    assert "received. Received 4, missing 0, rejected 0" in received.stdout
    assert _disposition(rt, retailer, codes[0]) == "sellable_accessible"
    return Shop(brand, retailer, store, codes)


def test_a_unit_received_at_the_store_is_sold_and_returned_to_stock(
    unitrace: Unitrace, rt: Runtime, shop: Shop
) -> None:
    code = shop.codes[0]

    sale = as_json(unitrace("pos", "sell", "--store", str(shop.store), code.lower(),
                            "--terminal", "till-1", "--org", RETAILER, "--json"))  # fmt: skip
    assert (sale["codes"], sale["terminal"], sale["replayed"]) == ([code], "till-1", False)
    assert _disposition(rt, shop.retailer, code) == "retail_sold"
    twice = unitrace("pos", "sell", "--store", str(shop.store), code, "--org", RETAILER)
    assert twice.exit_code == 1
    assert twice.stderr.startswith(f"Error: cannot sell: {code}:")

    back = ok(unitrace("pos", "return", "--store", str(shop.store), code, "--restock",
                       "--org", RETAILER))  # fmt: skip

    assert f"Returned {code} at store {shop.store}: now sellable_accessible." in back.stdout
    assert _disposition(rt, shop.retailer, code) == "sellable_accessible"


def test_a_return_is_quarantined_on_request(unitrace: Unitrace, rt: Runtime, shop: Shop) -> None:
    code = shop.codes[1]
    ok(unitrace("pos", "sell", "--store", str(shop.store), code, "--org", RETAILER))

    result = as_json(unitrace("pos", "return", "--store", str(shop.store), code, "--quarantine",
                              "--org", RETAILER, "--json"))  # fmt: skip

    assert (result["action"], result["disposition"]) == ("quarantine", "non_sellable_other")
    assert _disposition(rt, shop.retailer, code) == "non_sellable_other"


def test_a_return_must_say_restock_or_quarantine(unitrace: Unitrace, shop: Shop) -> None:
    result = unitrace("pos", "return", "--store", str(shop.store), shop.codes[0],
                      "--org", RETAILER)  # fmt: skip

    assert result.exit_code == 2
    assert "--restock or --quarantine" in result.stderr


def test_a_basket_sale_with_an_idempotency_key_is_made_once(
    unitrace: Unitrace, rt: Runtime, shop: Shop
) -> None:
    basket = shop.codes[1:3]
    args = ("pos", "sell", "--store", str(shop.store), *basket, "--idempotency-key", "till-1-42",
            "--org", RETAILER)  # fmt: skip

    first = ok(unitrace(*args))
    again = as_json(unitrace(*args, "--json"))

    assert "Sold 2 unit(s)" in first.stdout
    assert again["replayed"] is True
    assert {_disposition(rt, shop.retailer, c) for c in basket} == {"retail_sold"}


def test_undoing_a_sale_puts_the_unit_back_on_sale(
    unitrace: Unitrace, rt: Runtime, shop: Shop
) -> None:
    code = shop.codes[2]
    sale = as_json(unitrace("pos", "sell", "--store", str(shop.store), code, "--org", RETAILER,
                            "--json"))  # fmt: skip

    undone = as_json(unitrace("pos", "undo", code, "--reason", "wrong item scanned",
                              "--org", RETAILER, "--json"))  # fmt: skip

    assert undone["sale_event_id"] == sale["event_id"]
    assert undone["disposition"] == "sellable_accessible"
    assert _disposition(rt, shop.retailer, code) == "sellable_accessible"


def test_another_organizations_units_are_not_found_at_its_counter(
    unitrace: Unitrace, rt: Runtime, shop: Shop
) -> None:
    other = make_org(rt, kind=OrganizationKind.RETAILER, name=OTHER)
    their_store = make_location(rt, other)
    code = shop.codes[3]

    sold = unitrace("pos", "sell", "--store", str(their_store), code, "--org", OTHER)
    undone = unitrace("pos", "undo", code, "--org", OTHER)

    assert sold.exit_code == undone.exit_code == 1
    assert code in sold.stderr and "not found" in sold.stderr
    assert "not found" in undone.stderr
    assert _disposition(rt, shop.retailer, code) == "sellable_accessible"


def test_dispositions_change_all_or_nothing_with_a_reason(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    codes = _commission(rt, brand, 4)

    destroyed = ok(unitrace("dispositions", "destroy", codes[0], codes[1], "--reason",
                            "failed retest", "--org", BRAND))  # fmt: skip
    quarantined = as_json(unitrace("dispositions", "quarantine", codes[2], "--reason", "spill",
                                   "--org", BRAND, "--json"))  # fmt: skip
    mixed = unitrace("dispositions", "mark-damaged", codes[3], codes[0], "--reason", "crushed",
                     "--org", BRAND)  # fmt: skip
    no_reason = unitrace("dispositions", "expire", codes[3], "--org", BRAND)

    assert "2 unit(s) now destroyed." in destroyed.stdout
    assert (quarantined["units"], quarantined["disposition"]) == (1, "non_sellable_other")
    assert mixed.exit_code == 1
    assert mixed.stderr.startswith(f"Error: cannot mark damaged: {codes[0]}:")
    assert _disposition(rt, brand, codes[3]) == "active"  # nothing changed
    assert no_reason.exit_code == 2 and "--reason" in no_reason.stderr
    assert [_disposition(rt, brand, c) for c in codes[:3]] == [
        "destroyed",
        "destroyed",
        "non_sellable_other",
    ]


def test_dispositions_of_another_organizations_units_are_not_found(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    code = _commission(rt, brand, 1)[0]
    make_org(rt, name=OTHER)

    result = unitrace("dispositions", "mark-stolen", code, "--reason", "x", "--org", OTHER)

    assert result.exit_code == 1
    assert "not found" in result.stderr and code in result.stderr
    assert _disposition(rt, brand, code) == "active"
