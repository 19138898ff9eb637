"""Request id + client IP for the audit trail; echoed in the X-Request-ID response header."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kairos.audit import context
from kairos.web.ratelimit import client_ip

_SAFE_ID = re.compile(r"^[A-Za-z0-9\-]{8,36}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        token = context.begin(
            ip=client_ip(request),  # behind KAIROS_BEHIND_TLS_PROXY: the proxy's X-Forwarded-For entry
            request_id=incoming if _SAFE_ID.match(incoming) else None,
        )
        try:
            request.request_id = context.current().request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
            response["X-Request-ID"] = context.current().request_id
            return response
        finally:
            context.end(token)
