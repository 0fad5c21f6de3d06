"""Refuse an upload that is too large from its Content-Length, before a byte is read.

Imports check the size of the spooled file too (a client may not send Content-Length, or
may lie); this saves spooling hundreds of megabytes only to refuse them.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

# multipart framing around the file: boundaries, part headers, the other form fields
_FRAMING = 64 * 1024


class UploadLimit:
    """ASGI middleware: 413 for a POST to ``paths`` whose Content-Length exceeds ``limit``."""

    def __init__(self, app: ASGIApp, limit: int, paths: tuple[str, ...]) -> None:
        self.app = app
        self.limit = limit + _FRAMING
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith(self.paths)
        ):
            length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
            if length is not None and length.isdigit() and int(length) > self.limit:
                await self._refuse(scope, send, int(length))
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, length: int) -> None:
        limit = self.limit - _FRAMING
        message = f"the upload is {length:,} bytes; files of at most {limit:,} bytes are accepted"
        if scope["path"].startswith("/api/"):
            body = json.dumps(
                {"error": {"code": "file_too_large", "message": message, "details": None}}
            ).encode()
            media = b"application/json"
        else:
            body = f"<!doctype html><title>File too large</title><p>{message}</p>".encode()
            media = b"text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", media),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
