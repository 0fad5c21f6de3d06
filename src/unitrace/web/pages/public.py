"""The public pages under a code: its COA, its journey, registering a purchase, reporting
a problem. No login; every request passes the public rate limits, forms a stricter one.

Errors here are answered for consumers (the public problem page or a JSON error), never
with the app's chrome, and never with internal ids or stack traces.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from unitrace.errors import RateLimitedError, UnitraceError
from unitrace.services import support, verification
from unitrace.web.errors import error_body, status_for
from unitrace.web.resolver import PublicSite, client_of, too_many, wants_json

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=4000)]


def _site(request: Request) -> PublicSite:
    site: PublicSite = request.app.state.public_site
    return site


def _problem(site: PublicSite, request: Request, exc: UnitraceError) -> Response:
    status = status_for(exc)
    if wants_json(request.headers, {}):
        body = json.dumps(error_body(exc.code, exc.message))
        return Response(body, status, media_type="application/json")
    title = {404: "Not found", 429: "Slow down"}.get(status, "That did not work")
    html = site.render("public/problem.html", status=status, title=title, message=exc.message)
    response = HTMLResponse(html, status)
    if isinstance(exc, RateLimitedError):
        response.headers["Retry-After"] = "3600"
    return response


def _limited(site: PublicSite, request: Request, *, form: bool = False) -> Response | None:
    client = client_of(request.scope)
    wait = (site.forms if form else site.requests).take(client) or site.misses.wait(client)
    return too_many(site, wait, wants_json(request.headers, {})) if wait else None


def _form_refused(site: PublicSite, request: Request, website: str) -> Response | None:
    """The answer to a form post that goes no further: over the forms' rate limit, or the
    honeypot filled in (a bot typed into a field people never see)."""
    if (limited := _limited(site, request, form=True)) is not None:
        return limited
    if website:
        return _problem(site, request, RateLimitedError("this request looks automated"))
    return None


@router.get("/{code}/coa.pdf")
def coa(request: Request, code: str) -> Response:
    """The batch's Certificate of Analysis, inline: phones open it in their PDF viewer."""
    site = _site(request)
    if (limited := _limited(site, request)) is not None:
        return limited
    try:
        filename, content_type, data = verification.public_coa(site.rt, code)
    except UnitraceError as exc:
        return _problem(site, request, exc)
    safe = "".join(c for c in filename if c.isalnum() or c in "._-") or "coa.pdf"
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f'inline; filename="{safe}"',
            "Cache-Control": "public, max-age=300",
        },
    )


@router.get("/{code}/events")
def journey(request: Request, code: str) -> Response:
    """The unit's public journey (gs1:epcis): date, step, kind of business, city."""
    site = _site(request)
    if (limited := _limited(site, request)) is not None:
        return limited
    try:
        canonical = verification.canonical(code)
        steps = verification.public_history(site.rt, canonical)
    except UnitraceError as exc:
        return _problem(site, request, exc)
    if wants_json(request.headers, {"format": request.query_params.getlist("format")}):
        body = json.dumps({"code": canonical, "journey": steps})
        return Response(body, media_type="application/json")
    return HTMLResponse(site.render("public/events.html", code=canonical, journey=steps))


@router.get("/{code}/register")
def register_form(request: Request, code: str) -> Response:
    site = _site(request)
    if (limited := _limited(site, request)) is not None:
        return limited
    try:
        canonical = verification.canonical(code)
    except UnitraceError as exc:
        return _problem(site, request, exc)
    return HTMLResponse(site.render("public/register.html", code=canonical, form={}))


@router.post("/{code}/register")
def register(
    request: Request,
    code: str,
    contact_name: Text = "",
    contact_email: Text = "",
    consent: Text = "",
    website: Text = "",
) -> Response:
    """Register a purchase; answers with a redirect to the proof-of-purchase page."""
    site = _site(request)
    if (refused := _form_refused(site, request, website)) is not None:
        return refused
    contact = support.Contact(contact_name, contact_email, consent == "yes")
    try:
        reg = support.register_purchase(site.rt, code, contact)
    except UnitraceError as exc:
        if exc.code == "validation_error":
            form = {"contact_name": contact_name, "contact_email": contact_email}
            html = site.render(
                "public/register.html", code=code.strip().upper(), form=form, error=exc.message
            )
            return HTMLResponse(html, 422)
        return _problem(site, request, exc)
    return RedirectResponse(f"/{reg.code}/registration/{reg.reference}", 303)


@router.get("/{code}/registration/{reference}")
def proof(request: Request, code: str, reference: str) -> Response:
    site = _site(request)
    if (limited := _limited(site, request)) is not None:
        return limited
    try:
        reg = support.proof_of_purchase(site.rt, code, reference)
    except UnitraceError as exc:
        return _problem(site, request, exc)
    response = HTMLResponse(site.render("public/proof.html", reg=reg))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@router.post("/{code}/report")
def report(
    request: Request,
    code: str,
    kind: Text = "",
    message: Text = "",
    contact_name: Text = "",
    contact_email: Text = "",
    consent: Text = "",
    website: Text = "",
) -> Response:
    """Report a problem with this unit to its brand."""
    site = _site(request)
    if (refused := _form_refused(site, request, website)) is not None:
        return refused
    contact = support.Contact(contact_name, contact_email, consent == "yes")
    origin = site.origin(client_of(request.scope), request.headers)
    try:
        support.report_problem(
            site.rt, code, kind=kind, message=message, contact=contact, origin=origin
        )
    except UnitraceError as exc:
        return _problem(site, request, exc)
    canonical = verification.canonical(code)
    html = site.render("public/thanks.html", code=canonical, contact=bool(contact_email))
    return HTMLResponse(html)
