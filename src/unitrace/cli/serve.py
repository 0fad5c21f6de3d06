"""``unitrace serve``: the web app and REST API under uvicorn."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

import unitrace
from unitrace import __version__
from unitrace.cli.context import runtime, state
from unitrace.cli.demo import print_logins
from unitrace.cli.output import say
from unitrace.services.demo import DEMO_LOGINS, DEMO_PASSWORD
from unitrace.services.organizations import list_organizations
from unitrace.services.runtime import Runtime, build_runtime
from unitrace.services.webhooks import start_delivery_loop


def _browser_host(host: str) -> str:
    """The host to put in a URL for a bind address (0.0.0.0 listens on 127.0.0.1 too)."""
    if host in ("0.0.0.0", "", "::"):  # noqa: S104 - comparing, not binding
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _banner(rt: Runtime, host: str, port: int) -> None:
    base = f"http://{_browser_host(host)}:{port}"
    say(f"unitrace {__version__} is starting.")
    say(f"  App:      {base}/")
    say(f"  API docs: {base}/docs")
    demo_org = DEMO_LOGINS[0].organization
    if any(org.name == demo_org for org in list_organizations(rt)):
        print_logins(DEMO_LOGINS, DEMO_PASSWORD)
    say("Press Ctrl+C to stop.")
    sys.stdout.flush()


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: UNITRACE_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on (default: UNITRACE_PORT, 8000)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Server processes (default: UNITRACE_WORKERS, 1)."),
    ] = None,
    reload: Annotated[
        bool, typer.Option("--reload/--no-reload", help="Restart on code changes (development).")
    ] = False,
) -> None:
    """Run the web app and REST API; prints the URLs to open and any demo logins."""
    import uvicorn

    from unitrace.web.app import create_app

    settings = state(ctx).settings
    host, port = host or settings.host, port or settings.port
    _banner(runtime(ctx), host, port)
    state(ctx).close()  # the server builds its own runtime
    start_delivery_loop(build_runtime(settings))  # a daemon thread: ends with the server
    workers = workers or settings.workers
    if reload or workers > 1:
        # The reloader and the workers import the app in child processes, which read their
        # settings from the environment.
        os.environ["UNITRACE_DATABASE_URL"] = settings.database_url
        os.environ["UNITRACE_DATA_DIR"] = str(settings.data_dir)
        uvicorn.run(
            "unitrace.web.app:create_app",
            factory=True,
            host=host,
            port=port,
            reload=reload,
            workers=None if reload else workers,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            access_log=settings.access_log,
            reload_dirs=[str(Path(unitrace.__file__).parent)] if reload else None,
        )
    else:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            access_log=settings.access_log,
        )
