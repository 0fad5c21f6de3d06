"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import Receive, Scope, Send

from unitrace import __version__
from unitrace.config import Settings
from unitrace.services import analytics
from unitrace.services.runtime import Runtime, build_runtime
from unitrace.web.errors import install_error_handlers
from unitrace.web.limits import UploadLimit
from unitrace.web.ratelimit import RateLimiter
from unitrace.web.resolver import PublicSite, Resolver, SecurityHeaders, resolver_target

HERE = Path(__file__).parent


class UnitraceApp(FastAPI):
    """The app. A phone's scan (``/{code}``, ``/01/…``) is answered before the framework's
    middleware, routing and dependency machinery: it is the hottest path of the system,
    and that machinery is most of a scan's cost (see ``unitrace.web.resolver``)."""

    _resolver: Resolver | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        code = resolver_target(scope)
        if code is None:
            await super().__call__(scope, receive, send)
            return
        if self._resolver is None:
            self._resolver = Resolver(self.state.public_site)
        await self._resolver(scope, receive, send, code)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the scan log's writer and the sell-through folder with the server; on
    shutdown, stop the folder and write what is buffered."""
    site: PublicSite = app.state.public_site
    site.scan_log.start()
    folder = analytics.Folder(site.rt)
    folder.start()
    # Everything built so far lives as long as the server: keep it out of the collector's
    # full passes, which would otherwise walk it again and again under load.
    gc.freeze()
    # A scan allocates a few hundred short-lived objects; collecting the young generation
    # every 700 allocations (the default) is a collection every couple of scans.
    gc.set_threshold(20_000, 20, 50)
    try:
        yield
    finally:
        folder.close()
        site.scan_log.close()


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the web app for ``settings`` (or around an existing ``runtime``)."""
    from unitrace.web.api import router as api_router
    from unitrace.web.pages import public
    from unitrace.web.pages import router as pages_router

    if runtime is None:
        runtime = build_runtime(settings or Settings())
    app = UnitraceApp(
        title="unitrace",
        version=__version__,
        description="Unit-level serialization and track-and-trace (GS1 Digital Link, EPCIS 2.0).",
        docs_url="/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.runtime = runtime
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.login_limiter = RateLimiter(runtime.settings.login_rate_limit, 15 * 60)
    app.state.public_site = PublicSite.build(runtime, app.state.templates.env)
    app.add_middleware(SecurityHeaders, hsts=runtime.settings.secure_cookies)
    app.add_middleware(
        UploadLimit,
        limit=runtime.settings.import_max_bytes,
        paths=("/api/v1/imports/", "/imports"),
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    install_error_handlers(app)
    app.include_router(api_router.router)
    app.include_router(pages_router.router)
    app.include_router(public.router)  # last: /{code}/… must not shadow any page
    return app
