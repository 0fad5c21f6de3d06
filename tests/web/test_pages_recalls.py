"""The recall pages through the real app: the brand drafts, previews, confirms and activates
a recall and follows its reach; the retailer confirms quarantine by scanning; the regulator
reads every recall of its market without action buttons; forms need their CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import make_batch, make_location, make_org
from tests.web.test_pages import email_of, hidden, log_in
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import containers, serialization, shipments
from unitrace.services.runtime import Runtime


def signed_in_as(app: FastAPI, principal: Principal) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client, email_of(principal)).status_code == 303
        yield client


def shown(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', html)
    assert match, f"no {name} on the page"
    return match.group(1).strip()


def test_a_brand_activates_a_recall_from_its_pages_and_the_retailer_confirms_quarantine(
    app: FastAPI, rt: Runtime, brand: Principal
) -> None:
    retailer = make_org(rt, kind=OrganizationKind.RETAILER, name="Corner Store")
    store = make_location(rt, retailer)
    regulator = make_org(rt, kind=OrganizationKind.REGULATOR)
    batch = make_batch(rt, brand)
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=6)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    case = containers.create_containers(rt, brand, kind="case")[0].code
    containers.pack(rt, brand, container=case, items=codes[:4])
    shipment = shipments.create_shipment(
        rt, brand, destination_organization_id=retailer.organization_id,
        destination_location_id=store, items=[case],
    )  # fmt: skip
    shipments.ship(rt, brand, shipment.id)
    shipments.receive(rt, retailer, shipment.id, scans=[case])

    client = next(signed_in_as(app, brand))
    form = client.get("/recalls/new")
    assert form.status_code == 200 and 'href="/recalls" aria-current="page"' in form.text
    values = {
        "csrf_token": hidden(form.text, "csrf_token"),
        "title": "Mould <b>found</b>",
        "reason": "Failed retest",
        "severity": "I",
        "batch_ids": "",
        "unit_codes": "",
        "retailer_instructions": "Pull from the shelf.",
    }
    empty = client.post("/recalls", data=values)
    assert empty.status_code == 422 and "needs a scope" in empty.text
    assert client.post("/recalls", data={**values, "csrf_token": "x"}).status_code == 403
    created = client.post("/recalls", data={**values, "batch_ids": str(batch.id)})
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    draft = client.get(url).text
    assert "Mould &lt;b&gt;found&lt;/b&gt;" in draft  # escaped
    assert shown(draft, "recall-status") == "Draft"
    assert (shown(draft, "preview-total"), shown(draft, "preview-will-recall")) == ("6", "6")
    assert "Corner Store" in draft and 'action="' + url + '/activate"' not in draft
    confirm = client.get(f"{url}/activate").text
    assert "Activate the recall now" in confirm and 'data-testid="confirm-activation"' in confirm
    activated = client.post(f"{url}/activate", data={"csrf_token": hidden(confirm, "csrf_token")})
    assert activated.status_code == 303
    monitor = client.get(activated.headers["location"]).text
    assert shown(monitor, "recall-status") == "Active"
    assert (shown(monitor, "count-at_holder"), shown(monitor, "count-at_issuer")) == ("4", "2")
    assert shown(monitor, "progress-share") == "33%"
    assert f"/api/v1/recalls/{url.rsplit('/', 1)[1]}/report.csv" in monitor
    again = client.post(f"{url}/activate", data={"csrf_token": hidden(monitor, "csrf_token")})
    assert again.status_code == 409 and "must be draft" in again.text
    csv_body = client.get(f"/api/v1/recalls/{url.rsplit('/', 1)[1]}/report.csv")
    assert csv_body.status_code == 200 and csv_body.text.count("\r\n") == 7

    shop = next(signed_in_as(app, retailer))
    assert shop.get("/recalls").headers["location"] == "/recalls/held"
    held = shop.get("/recalls/held").text
    assert shown(held, "held-units") == "4" and "Pull from the shelf." in held
    refused = shop.post(
        "/recalls/held/confirm",
        data={"csrf_token": hidden(held, "csrf_token"), "codes": f"{codes[0]}\n{codes[5]}",
              "action": "quarantined", "location_id": str(store)},
    )  # fmt: skip
    assert refused.status_code == 409 and codes[5] in refused.text
    ok = shop.post(
        "/recalls/held/confirm",
        data={"csrf_token": hidden(held, "csrf_token"), "codes": "\n".join(codes[:3]) + "\n",
              "action": "quarantined", "location_id": str(store)},
    )  # fmt: skip
    assert ok.status_code == 303
    after = shop.get(ok.headers["location"]).text
    assert shown(after, "confirmed") == "Confirmed quarantined: 3 unit(s)."
    assert shown(after, "held-confirmed") == "3"
    assert shop.get(url).status_code == 404  # not the retailer's recall

    watcher = next(signed_in_as(app, regulator))
    listing = watcher.get("/recalls").text
    assert url in listing and "Every recall issued in your market" in listing
    seen = watcher.get(url).text
    assert shown(seen, "count-quarantined") == "3"
    assert "Close recall" not in seen and "/destroy" not in seen and "/release" not in seen
    mine = client.get(url).text
    assert "Close recall" in mine
    closed = client.post(f"{url}/close", data={"csrf_token": hidden(mine, "csrf_token")})
    assert shown(client.get(closed.headers["location"]).text, "recall-status") == "Closed"
