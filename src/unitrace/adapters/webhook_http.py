"""POSTing webhook deliveries over HTTP(S), with the standard library.

Redirects are never followed: a receiver that answers 3xx has not taken the delivery, and
following it could send a signed payload to another host. The 3xx status is returned like
any other non-2xx answer.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from unitrace import __version__


class WebhookTransportError(Exception):
    """The request did not get an HTTP answer: DNS, connection, TLS or timeout failure."""


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class WebhookSender(Protocol):
    def __call__(self, request: WebhookRequest) -> int:
        """POST ``request``; the HTTP status code, or ``WebhookTransportError``."""
        ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


@dataclass(frozen=True)
class HttpWebhookSender:
    """A :class:`WebhookSender` over ``urllib.request`` with a per-request timeout."""

    timeout: float = 10.0

    def __call__(self, request: WebhookRequest) -> int:
        if not request.url.lower().startswith(("https://", "http://")):
            raise WebhookTransportError(f"refusing to POST to {request.url!r}")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"unitrace-webhooks/{__version__}",
            **request.headers,
        }
        http_request = urllib.request.Request(  # noqa: S310 - scheme checked above
            request.url, data=request.body, headers=headers, method="POST"
        )
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            with opener.open(http_request, timeout=self.timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            return int(exc.code)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WebhookTransportError(f"{type(exc).__name__}: {reason}") from exc
