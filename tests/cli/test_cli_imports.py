"""``unitrace import``: a broken file's problems as a table (exit 1), a dry run, an import
applied once, templates, past imports, and the CSV reference."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_batch, make_product
from unitrace.domain.csv_reference import csv_reference
from unitrace.domain.model import Principal
from unitrace.services import catalog
from unitrace.services.runtime import Runtime


def test_import_a_broken_then_a_good_products_file(
    rt: Runtime, unitrace: Unitrace, brand: Principal, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("name,category,net_content,net_content_unit\nOne,flower,12;5,g\n")
    refused = unitrace("import", "products", str(broken), "--org", BRAND)
    assert refused.exit_code == 1
    assert "1 problems" in refused.stdout
    row = next(line for line in refused.stdout.splitlines() if "12;5" in line)
    assert "│ 2 " in row and "net_content" in row
    assert "Nothing was imported" in refused.stdout
    assert catalog.list_products(rt, brand).total == 0

    good = tmp_path / "good.csv"
    good.write_text("name,category\nBlue Dream 3.5 g,flower\nSour Diesel 1 g,flower\n")
    checked = ok(unitrace("import", "products", str(good), "--org", BRAND, "--dry-run"))
    assert "Checked 2 rows" in checked.stdout and "dry run" in checked.stdout
    assert catalog.list_products(rt, brand).total == 0
    as_on_a_terminal = {"FORCE_COLOR": "1"}  # the progress indicator shows on a terminal only
    done = ok(
        unitrace(
            "import", "products", str(good), "--org", BRAND, "--key", "k1", env=as_on_a_terminal
        )
    )
    assert "Imported 2 rows" in done.stdout and "Created" in done.stdout
    assert "Done: 2 rows" in done.stderr  # fed by the service's progress callback
    again = json.loads(
        ok(unitrace("import", "products", str(good), "--org", BRAND, "--json")).stdout
    )
    assert again["replayed"] is True and again["status"] == "applied"
    assert catalog.list_products(rt, brand).total == 2

    listed = ok(unitrace("import", "list", "--org", BRAND)).stdout
    assert "2 imports" in listed and "invalid" in listed and "applied" in listed
    shown = ok(unitrace("import", "show", str(again["id"]), "--org", BRAND)).stdout
    assert "applied" in shown and "Created" in shown
    unknown = unitrace("import", "show", "999999", "--org", BRAND)
    assert unknown.exit_code == 1 and "not found" in unknown.stderr
    wrong_kind = unitrace("import", "pizzas", str(good), "--org", BRAND)
    assert wrong_kind.exit_code == 1 and "unknown kind" in wrong_kind.stderr


def test_templates_and_the_csv_reference(unitrace: Unitrace, tmp_path: Path) -> None:
    assert ok(unitrace("import", "template", "sales")).stdout.startswith("code,store,sold_at,")
    target = tmp_path / "products.csv"
    ok(unitrace("import", "template", "products", "-o", str(target)))
    assert target.read_text().splitlines()[0].startswith("name,category,")
    assert ok(unitrace("import", "docs")).stdout == csv_reference()


def test_import_guessable_serials_with_allow_guessable(
    rt: Runtime, unitrace: Unitrace, brand: Principal, tmp_path: Path
) -> None:
    batch = make_batch(rt, brand, make_product(rt, brand, gtin="09506000134352"))
    serials = tmp_path / "serials.csv"
    serials.write_text(
        "lot_number,serial\n" + "".join(f"{batch.lot_number},{n}\n" for n in (17, 18, 19, 20))
    )
    refused = unitrace("import", "serials", str(serials), "--org", BRAND)
    assert refused.exit_code == 1 and "can be guessed" in refused.stdout
    done = json.loads(
        ok(
            unitrace(
                "import", "serials", str(serials), "--org", BRAND, "--allow-guessable", "--json"
            )
        ).stdout
    )
    assert (done["status"], done["result"]["units"], done["result"]["guessable"]) == (
        "applied",
        4,
        True,
    )
