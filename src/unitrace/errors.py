"""The one error hierarchy of unitrace.

Services raise these; each edge maps them exactly once (HTTP status and JSON body in
``unitrace.web.errors``, a one-line message and exit code in ``unitrace.cli``). The errors
carry a stable machine ``code`` and a human message, never an HTTP status.
"""

from __future__ import annotations

from typing import Any


class UnitraceError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``message`` is for people."""

    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFoundError(UnitraceError):
    """The thing does not exist — or belongs to another organization (deliberately the same)."""

    code = "not_found"


class ValidationError(UnitraceError):
    """Input is malformed or breaks a rule; ``details`` lists field-level problems."""

    code = "validation_error"


class ConflictError(UnitraceError):
    """The request clashes with current state (a duplicate name, a reused key)."""

    code = "conflict"


class IdempotencyKeyReusedError(ConflictError):
    """An idempotency key was sent again with a different request."""

    code = "idempotency_key_reused"


class BatchNotReleasedError(UnitraceError):
    """Units may only be commissioned for a batch that has passed lab testing."""

    code = "batch_not_released"


class OperationRefusedError(ConflictError):
    """The lifecycle rules refuse the operation for some of the units or containers named.

    ``details`` lists each refused item: ``code``, ``reason`` (a stable code such as
    ``already_sold``, ``recalled``, ``expired``, ``not_custodian``) and ``message``.
    Nothing was changed.
    """

    code = "refused"


class PreflightFailedError(UnitraceError):
    """Some labels' QR codes did not scan back to their payload; nothing was printed.

    ``details`` lists each failing label: ``code``, ``payload``, ``decoded``, ``reason``.
    """

    code = "preflight_failed"


class AuthenticationError(UnitraceError):
    """No valid credentials were presented."""

    code = "unauthenticated"


class PermissionDeniedError(UnitraceError):
    """The caller is known but their role does not allow the action."""

    code = "permission_denied"


class DatabaseUnavailableError(UnitraceError):
    """The database cannot be reached (server down, wrong URL, unreadable file)."""

    code = "database_unavailable"


class RateLimitedError(UnitraceError):
    """Too many attempts from one origin in a short time."""

    code = "rate_limited"
