"""The support pages through the real app: the brand's alerts, marked investigated with a
note; its inbox, a report with the unit's verdict and history, closed with a resolution;
forms need their CSRF token; a viewer gets no forms; another organization sees nothing."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import PASSWORD, make_org
from tests.support_data import make_support_world
from tests.web.test_pages import email_of, hidden, log_in
from tests.web.test_pages_recalls import shown
from unitrace.domain.model import Principal, Role
from unitrace.services import access
from unitrace.services.runtime import Runtime


def signed_in(app: FastAPI, email: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    assert log_in(client, email).status_code == 303
    return client


def test_a_brand_investigates_an_alert_from_the_alerts_page(
    app: FastAPI, rt: Runtime, brand: Principal
) -> None:
    world = make_support_world(rt, brand)
    client = signed_in(app, email_of(brand))
    page = client.get("/alerts")
    assert page.status_code == 200
    assert 'href="/alerts" aria-current="page"' in page.text and 'href="/inbox"' in page.text
    assert f'data-testid="alert-{world.alert_id}"' in page.text and "Many origins" in page.text
    action = f"/alerts/{world.alert_id}/investigate"
    assert f'action="{action}"' in page.text
    token = hidden(page.text, "csrf_token")

    assert client.post(action, data={"csrf_token": "x", "note": "n"}).status_code == 403
    done = client.post(action, data={"csrf_token": token, "note": "Counter scans <b>only</b>"})
    assert (done.status_code, done.headers["location"]) == (303, "/alerts?done=investigated")
    after = client.get(done.headers["location"]).text
    assert "Alert marked investigated" in after and "No alerts found" in after
    again = client.post(action, data={"csrf_token": token, "note": "again"})
    assert again.status_code == 409 and "already investigated" in again.text
    history = client.get("/alerts?status=investigated").text
    assert (
        "Counter scans &lt;b&gt;only&lt;/b&gt;" in history and f'action="{action}"' not in history
    )
    assert f'data-testid="alert-{world.alert_id}"' in client.get("/alerts?status=all").text


def test_a_brand_reads_a_report_with_the_facts_and_closes_it(
    app: FastAPI, rt: Runtime, brand: Principal
) -> None:
    world = make_support_world(rt, brand)
    client = signed_in(app, email_of(brand))
    inbox = client.get("/inbox").text
    first, second = world.report_ids
    assert f'href="/inbox/{first}"' in inbox and f'href="/inbox/{second}"' in inbox
    assert "Damaged or tampered package" in inbox and 'aria-current="page"' in inbox

    page = client.get(f"/inbox/{first}")
    assert page.status_code == 200
    assert shown(page.text, "report-message") == "The seal was broken"
    assert shown(page.text, "report-status") == "Open"
    assert "Suspicious" in page.text and "Sacramento" in page.text
    assert 'data-testid="timeline"' in page.text and "show oldest first" in page.text
    token = hidden(page.text, "csrf_token")

    action = f"/inbox/{first}/close"
    assert client.post(action, data={"resolution": "x"}).status_code == 403
    closed = client.post(action, data={"csrf_token": token, "resolution": "Replacement sent"})
    assert (closed.status_code, closed.headers["location"]) == (303, f"/inbox/{first}?done=closed")
    after = client.get(closed.headers["location"]).text
    assert "Report closed." in after and shown(after, "report-status") == "Closed"
    assert shown(after, "report-resolution") == "Replacement sent"
    assert f'action="{action}"' not in after
    again = client.post(action, data={"csrf_token": token, "resolution": "again"})
    assert again.status_code == 409 and "already closed" in again.text

    open_inbox = client.get("/inbox").text
    assert f'href="/inbox/{first}"' not in open_inbox and f'href="/inbox/{second}"' in open_inbox
    assert f'href="/inbox/{first}"' in client.get("/inbox?status=closed").text
    assert client.get("/inbox/999999").status_code == 404


def test_a_viewer_gets_no_forms_and_another_organization_sees_nothing(
    app: FastAPI, rt: Runtime, brand: Principal
) -> None:
    world = make_support_world(rt, brand)
    access.create_user(
        rt, brand, organization_id=brand.organization_id, email="viewer@brand.example",
        name="Viewer", password=PASSWORD, role=Role.VIEWER,
    )  # fmt: skip
    viewer = signed_in(app, "viewer@brand.example")
    alerts = viewer.get("/alerts").text
    assert f'data-testid="alert-{world.alert_id}"' in alerts and "/investigate" not in alerts
    report = viewer.get(f"/inbox/{world.report_ids[0]}").text
    assert "The seal was broken" in report and f"/inbox/{world.report_ids[0]}/close" not in report
    token = hidden(alerts, "csrf_token")
    refused = viewer.post(
        f"/alerts/{world.alert_id}/investigate", data={"csrf_token": token, "note": "n"}
    )
    assert refused.status_code == 403

    other = signed_in(app, email_of(make_org(rt)))
    assert "No alerts found" in other.get("/alerts?status=all").text
    assert "No reports found" in other.get("/inbox?status=all").text
    assert other.get(f"/inbox/{world.report_ids[0]}").status_code == 404
    token = hidden(other.get("/inbox").text, "csrf_token")
    close = other.post(f"/inbox/{world.report_ids[0]}/close", data={"csrf_token": token})
    assert close.status_code == 404
