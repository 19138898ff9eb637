"""Per-request audit context (request id, client IP), set by ``RequestIdMiddleware``.

Entries written during one request share its request id (wagtail's LogContext idea).
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditContext:
    request_id: str = ""
    ip: str | None = None


_EMPTY = AuditContext()
_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("kairos_audit", default=None)


def current() -> AuditContext:
    return _current.get() or _EMPTY


def begin(ip: str | None, request_id: str | None = None) -> contextvars.Token[AuditContext | None]:
    return _current.set(AuditContext(request_id=request_id or str(uuid.uuid4()), ip=ip))


def end(token: contextvars.Token[AuditContext | None]) -> None:
    _current.reset(token)
