"""The public site at the root of the domain: the GS1 Digital Link resolver.

``/{code}`` and ``/01/{gtin}[/10/{lot}][/21/{serial}]`` are answered here, by a plain ASGI
layer in front of the FastAPI app: a phone's scan is the hottest path of the whole system,
and skipping the framework's route table and dependency machinery roughly doubles what
one process serves. Everything else (the pages under a code such as ``/{code}/coa.pdf``,
the forms, the app itself) passes through to FastAPI.

Per client, the answer first passes two token buckets: one for all public requests, one
for unknown or malformed codes (guessing codes is cut off long before it could find one).
Then the code is verified (one indexed statement), the scan is noted in the scan log's
buffer (written off the request path), and the answer is chosen: ``linkType`` selects a
link, ``linkType=all`` returns the RFC 9264 linkset, ``Accept: application/json`` the
verification result, anything else the consumer page.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote

import anyio.to_thread
from jinja2 import Environment
from markupsafe import Markup
from starlette.datastructures import Headers
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from unitrace import __version__
from unitrace.domain.gs1 import Gs1Error, parse_digital_link
from unitrace.domain.verification import LINKSET, LinkType, parse_link_type
from unitrace.errors import NotFoundError, ValidationError
from unitrace.services import verification
from unitrace.services.runtime import Runtime
from unitrace.services.scanlog import Origin, ScanLog, describe_origin
from unitrace.services.verification import Verification
from unitrace.web.ratelimit import TokenBuckets

T = TypeVar("T")
log = logging.getLogger(__name__)

# A unit code as it arrives in a path: 14 characters, maybe lower case, hyphens or spaces,
# maybe followed by what a scanner leaves (a newline, a slash).
_CODE_PATH = re.compile(r"/([0-9A-Za-z][0-9A-Za-z -]{12,24})/?")
_LINKSET_TYPE = "application/linkset+json"
_CODE_SLOT = "__UNIT_CODE__"  # in a cached batch fragment, where each unit's code goes
_COA_HREF = f"/{_CODE_SLOT}/coa.pdf"

PUBLIC_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
APP_CSP = (
    "default-src 'self'; img-src 'self' https: data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def security_headers(*, public: bool, hsts: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", (PUBLIC_CSP if public else APP_CSP).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer" if public else b"same-origin"),
        (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


@dataclass
class PublicSite:
    """What the public side needs, built once per app."""

    rt: Runtime
    env: Environment
    scan_log: ScanLog
    requests: TokenBuckets
    misses: TokenBuckets
    forms: TokenBuckets
    slow_down_html: bytes | None = None

    @classmethod
    def build(cls, rt: Runtime, env: Environment) -> PublicSite:
        s = rt.settings
        return cls(
            rt=rt,
            env=env,
            scan_log=ScanLog(rt),
            requests=TokenBuckets(s.public_requests_per_minute / 60.0, s.public_burst),
            misses=TokenBuckets(s.public_misses_per_hour / 3600.0, s.public_misses_per_hour),
            forms=TokenBuckets(
                s.public_forms_per_hour / 3600.0, max(3, s.public_forms_per_hour // 2)
            ),
        )

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a (blocking) service call: inline on SQLite, where a lookup takes tens of
        microseconds, in a worker thread on PostgreSQL, where it waits on the network."""
        if self.rt.db.dialect == "sqlite":
            return fn(*args, **kwargs)
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    def origin(self, client: str, headers: Headers) -> Origin:
        s = self.rt.settings

        def header(name: str) -> str:
            return headers.get(name, "") if name else ""

        return describe_origin(
            self.rt,
            client,
            headers.get("user-agent", ""),
            country=header(s.geo_country_header),
            region=header(s.geo_region_header),
            city=header(s.geo_city_header),
        )

    def facts_html(self, v: Verification, record: dict[str, Any]) -> Markup:
        """The product and lab-results part of a unit's page: the same for the whole batch,
        rendered once per batch (and per ``FACTS_TTL_SECONDS``)."""
        if not v.known or v.facts is None:
            return Markup("")
        cache = verification.cache_of(self.rt, "public.batch_html")
        key = v.facts["batch_id"]
        fragment: str = cache.get(key)
        if fragment is verification.MISSING:
            fragment = self.render("public/_facts.html", record=record, coa_href=_COA_HREF)
            cache.put(key, fragment)
        return Markup(fragment.replace(_CODE_SLOT, v.code))  # noqa: S704 - our own template

    def render(self, template: str, **context: Any) -> str:
        context.setdefault("version", __version__)
        return self.env.get_template(template).render(**context)

    def public_headers(self) -> list[tuple[bytes, bytes]]:
        return security_headers(public=True, hsts=self.rt.settings.secure_cookies)


def client_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def wants_json(headers: Headers, query: dict[str, list[str]]) -> bool:
    if (query.get("format") or [""])[0].lower() == "json":
        return True
    accept = headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


_SLOW_DOWN = "Too many requests from your network: wait a moment and scan again."
_SLOW_DOWN_JSON = json.dumps({"error": {"code": "rate_limited", "message": _SLOW_DOWN}}).encode()


def too_many(site: PublicSite, wait: float, as_json: bool) -> Response:
    """429 with Retry-After. The bodies are rendered once: turning a flood away must cost
    far less than answering it."""
    if as_json:
        response = Response(_SLOW_DOWN_JSON, 429, media_type="application/json")
    else:
        if site.slow_down_html is None:
            site.slow_down_html = site.render(
                "public/problem.html", status=429, title="Slow down", message=_SLOW_DOWN
            ).encode()
        response = HTMLResponse(site.slow_down_html, 429)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    response.headers["Cache-Control"] = "no-store"
    return response


def _json(data: Any, status: int = 200, media_type: str = "application/json") -> Response:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status, media_type=media_type)


def resolver_target(scope: Scope) -> str | None:
    """For a resolver request: the code in its path ('' for a Digital Link path); else None."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return None
    path: str = scope["path"].rstrip("\r\n\t ")
    if path.startswith("/01/"):
        return ""
    match = _CODE_PATH.fullmatch(path)
    return match.group(1) if match is not None else None


class SecurityHeaders:
    """ASGI middleware: security headers on every response of the app (the resolver sets
    its own). The public pages under a code get the strict policy; /docs none (it loads
    Swagger UI from a CDN)."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        extra = security_headers(public=_is_public_path(path), hsts=self.hsts)
        if path.startswith(("/docs", "/api/v1/openapi.json")):
            extra = [h for h in extra if h[0] != b"content-security-policy"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                message["headers"] = headers + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Resolver:
    """Answers one resolver request (see the module's docs)."""

    def __init__(self, site: PublicSite) -> None:
        self.site = site
        self.headers = site.public_headers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send, code: str) -> None:
        site = self.site
        client = client_of(scope)
        wait = site.misses.wait(client) or site.requests.take(client)
        if wait:  # turned away before anything else is looked at: a flood costs little
            await self.reject(scope, send, wait)
            return
        try:
            response = await self.resolve(scope, site, client, code or None)
        except Exception:  # never a stack trace to the public; the log has it
            log.exception("the resolver failed on %s", scope.get("path", "")[:100])
            response = Response("Something went wrong; please scan again.", 500)
        response.raw_headers.extend(self.headers)
        await response(scope, receive, send)

    async def reject(self, scope: Scope, send: Send, wait: float) -> None:
        """429 with Retry-After, sent straight to the server with pre-built parts."""
        as_json = any(
            name == b"accept" and b"json" in value and b"text/html" not in value
            for name, value in scope["headers"]
        )
        if as_json:
            body, media = _SLOW_DOWN_JSON, b"application/json"
        else:
            if self.site.slow_down_html is None:
                too_many(self.site, 1, False)  # renders and keeps the page
            body, media = self.site.slow_down_html or b"", b"text/html; charset=utf-8"
        headers = [
            (b"content-type", media),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(max(1, math.ceil(wait))).encode()),
            (b"cache-control", b"no-store"),
            *self.headers,
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def resolve(
        self, scope: Scope, site: PublicSite, client: str, code: str | None
    ) -> Response:
        headers = Headers(scope=scope)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        as_json = wants_json(headers, query)
        gtin = lot = None
        if code is None:  # a Digital Link path
            raw_path = scope.get("raw_path") or scope["path"].encode()
            try:
                link = parse_digital_link(_without_trailing_garbage(raw_path.decode("latin-1")))
            except Gs1Error as exc:
                site.misses.take(client)
                return self.malformed(site, str(exc), as_json)
            if link.serial is None:
                return await self.item(site, link.gtin, link.lot, as_json)
            code, gtin, lot = link.serial, link.gtin, link.lot
        try:
            v = await site.call(verification.verify, site.rt, code, gtin=gtin, lot=lot)
        except ValidationError as exc:
            site.misses.take(client)
            return self.malformed(site, exc.message, as_json)
        link_type_text = query.get("linkType", [""])[0]
        if not v.known:
            site.misses.take(client)
        site.scan_log.record(v, site.origin(client, headers), link_type_text or "gs1:pip")
        response = self.answer(site, v, link_type_text, as_json)
        base = site.rt.settings.resolver_base_url
        anchor = quote(v.code, safe="")  # a brand's serial may hold "/" or "%"; a code never
        linkset = f'<{base}/{anchor}?linkType=all>; rel="linkset"; type="{_LINKSET_TYPE}"'
        response.raw_headers.extend(
            ((b"link", linkset.encode()), (b"vary", b"Accept"), (b"cache-control", b"no-store"))
        )
        return response

    def answer(
        self, site: PublicSite, v: Verification, link_type_text: str, as_json: bool
    ) -> Response:
        rt = site.rt
        status = 200 if v.known else 404
        if link_type_text.strip().lower() == LINKSET:
            if not v.known:
                return _json(verification.public_record(rt, v), 404)
            return _json(verification.linkset_of(rt, v), media_type=_LINKSET_TYPE)
        link_type = parse_link_type(link_type_text)
        if v.known and link_type is not None and link_type is not LinkType.PIP:
            if link_type is LinkType.RECALL_STATUS:
                return _json(verification.recall_status(v))
            target = verification.links(rt, v).get(link_type)
            if target is not None:  # an unavailable link type falls back to the default
                return RedirectResponse(target["href"], 307)
        if as_json:
            return Response(verification.public_json(rt, v), status, media_type="application/json")
        record = verification.public_record(rt, v)
        html = site.render(
            "public/scan.html", v=v, record=record, facts_html=site.facts_html(v, record)
        )
        return HTMLResponse(html, status)

    def malformed(self, site: PublicSite, message: str, as_json: bool) -> Response:
        if as_json:
            return _json({"error": {"code": "malformed_code", "message": message}}, 400)
        html = site.render(
            "public/problem.html",
            status=400,
            title="This is not a valid code",
            message=message,
            hint="Scan the QR code on the label again, or type the 14 characters printed under it.",
        )
        return HTMLResponse(html, 400)

    async def item(self, site: PublicSite, gtin: str, lot: str | None, as_json: bool) -> Response:
        try:
            item = await site.call(verification.describe_item, site.rt, gtin, lot)
        except NotFoundError as exc:
            if as_json:
                return _json({"error": {"code": "not_found", "message": exc.message}}, 404)
            html = site.render(
                "public/problem.html", status=404, title="Not found", message=exc.message
            )
            return HTMLResponse(html, 404)
        record = verification.item_record(item)
        if as_json:
            return _json(record)
        return HTMLResponse(site.render("public/item.html", item=item, record=record))


_ENCODED_GARBAGE = ("%0A", "%0D", "%20", "%09", "%0a", "%0d")


def _without_trailing_garbage(path: str) -> str:
    """A raw path without what a scanner appends (a newline, encoded or not)."""
    path = path.rstrip("\r\n\t ")
    while path.endswith(_ENCODED_GARBAGE):
        path = path[:-3]
    return path


def _is_public_path(path: str) -> bool:
    """The pages under a code (COA, journey, forms) are public too: the strict policy."""
    first = path.split("/", 2)[1] if path.count("/") >= 1 else ""
    return bool(_CODE_PATH.fullmatch("/" + first))
