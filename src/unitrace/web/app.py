"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from unitrace import __version__
from unitrace.config import Settings
from unitrace.services.runtime import Runtime, build_runtime
from unitrace.web.errors import install_error_handlers
from unitrace.web.ratelimit import RateLimiter

HERE = Path(__file__).parent


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the web app for ``settings`` (or around an existing ``runtime``)."""
    from unitrace.web.api import router as api_router
    from unitrace.web.pages import router as pages_router

    if runtime is None:
        runtime = build_runtime(settings or Settings())
    app = FastAPI(
        title="unitrace",
        version=__version__,
        description="Unit-level serialization and track-and-trace (GS1 Digital Link, EPCIS 2.0).",
        docs_url="/docs",
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.login_limiter = RateLimiter(runtime.settings.login_rate_limit, 15 * 60)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    install_error_handlers(app)
    app.include_router(api_router.router)
    app.include_router(pages_router.router)
    return app
