from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from kairos.accounts.services import authenticate_token


class BearerToken(HttpBearer):
    """``Authorization: Bearer kairos_…``: a per-user token, scoped exactly like its user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = authenticate_token(token)
        if user is not None:
            request.user = user
        return user
