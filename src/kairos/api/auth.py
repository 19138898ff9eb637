from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from kairos.accounts.services import TokenRefused, authenticate_token


class BearerToken(HttpBearer):
    """``Authorization: Bearer kairos_…``: a per-user token, scoped exactly like its user. An expired
    token answers 401 naming its expiry date; a read-only token answers 403 to a method that writes."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        try:
            user = authenticate_token(token, request.method or "GET")
        except TokenRefused as exc:
            raise HttpError(exc.status, exc.detail) from None
        if user is not None:
            request.user = user
        return user
