"""Rate limits that answer 429 with ``Retry-After``, counted in one atomic database table.

Three buckets, each a fixed 60-second window (limits are settings, 0 = off, dev only):

- ``link``: every request to a questionnaire link ``/q/…``, per client address
  (``KAIROS_RATE_LINK_PER_MINUTE``);
- ``login``: sign-in and two-factor code POSTs, per client address (``KAIROS_RATE_LOGIN_PER_MINUTE``;
  django-axes still locks a username+address pair after repeated failures);
- ``api``: ``/api/`` requests carrying ``Authorization: Bearer …``, per token, keyed on a SHA-256 of the
  token, never the token itself (``KAIROS_RATE_API_PER_MINUTE``).

The counter is one statement, ``INSERT … ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1
RETURNING count``, atomic on PostgreSQL and SQLite (≥ 3.35) alike, so concurrent requests never
undercount (django-ratelimit on the database cache reads then writes, and loses increments). Rows of
past windows are pruned whenever a key opens a new window.

Client address: ``REMOTE_ADDR``; with ``KAIROS_BEHIND_TLS_PROXY=1`` the last (right-most) address of
``X-Forwarded-For``, i.e. the one our own proxy appended, never one the client wrote itself.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape

from kairos.web.models import RateCounter

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    """The outcome of one counted request: the count in this window, the limit, seconds to wait."""

    bucket: str
    count: int
    limit: int
    retry_after: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address: behind our TLS proxy the last ``X-Forwarded-For`` entry (the one the proxy
    wrote; a client can prepend anything), else ``REMOTE_ADDR``; ``None`` if neither is an IP address.
    Used by the rate limits, django-axes (``AXES_CLIENT_IP_CALLABLE``) and the audit trail's ``ip``."""
    candidates = []
    if getattr(settings, "KAIROS_BEHIND_TLS_PROXY", False):
        forwarded = [a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
        candidates.append(next((a for a in reversed(forwarded) if a), ""))
    candidates.append(str(request.META.get("REMOTE_ADDR") or ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def client_address(request: HttpRequest) -> str:
    """``client_ip`` for counter keys, ``unknown`` when there is none."""
    return client_ip(request) or "unknown"


def token_key(raw_token: str) -> str:
    """The counter key for a bearer token: a SHA-256 prefix, so the table never holds a usable token."""
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()[:40]


def hit(key: str, limit: int, *, bucket: str, now: float | None = None) -> Verdict:
    """Count one request for ``key`` in the current fixed window, atomically, and judge it."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    table = connection.ops.quote_name(RateCounter._meta.db_table)
    q = connection.ops.quote_name
    sql = (
        f"INSERT INTO {table} ({q('key')}, {q('window_start')}, {q('count')}) VALUES (%s, %s, 1) "
        f"ON CONFLICT ({q('key')}, {q('window_start')}) "
        f"DO UPDATE SET {q('count')} = {table}.{q('count')} + 1 RETURNING {q('count')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, window])
        row = cursor.fetchone()
        count = int(row[0])
        if count == 1:
            # First request of this key in a new window: drop windows that can no longer count.
            cursor.execute(f"DELETE FROM {table} WHERE {q('window_start')} < %s", [window - 1])
    retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return Verdict(bucket=bucket, count=count, limit=limit, retry_after=retry_after)


def too_many_requests(request: HttpRequest, verdict: Verdict) -> HttpResponse:
    """429 with ``Retry-After`` in seconds: JSON ``{"detail": …}`` under ``/api/``, a short page elsewhere."""
    what = {
        "link": "questionnaire link requests from your address",
        "login": "sign-in attempts from your address",
        "api": "API requests with this token",
    }[verdict.bucket]
    detail = (
        f"Too many {what}: the limit is {verdict.limit} per {WINDOW_SECONDS} seconds. "
        f"Try again in {verdict.retry_after} seconds."
    )
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": detail}, status=429)
    else:
        body = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too many requests</title>'
            f"</head><body><h1>Too many requests</h1><p>{escape(detail)}</p></body></html>"
        )
        response = HttpResponse(body, status=429, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(verdict.retry_after)
    response["Cache-Control"] = "no-store"
    return response


class RateLimitMiddleware:
    """Counts link, sign-in and token API requests before any view runs; over the limit answers 429."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def _sign_in_paths(self) -> frozenset[str]:
        paths = set()
        for name in ("accounts:login", "accounts:2fa_verify"):
            try:
                paths.add(reverse(name))
            except NoReverseMatch:  # pragma: no cover - a renamed route must not break every request
                continue
        return frozenset(paths)

    def classify(self, request: HttpRequest) -> tuple[str, str, int] | None:
        """(bucket, key, limit) for a request that is rate-limited, else None."""
        path = request.path
        if path.startswith("/q/"):
            limit = settings.KAIROS_RATE_LINK_PER_MINUTE
            return ("link", f"link:{client_address(request)}", limit) if limit else None
        if request.method == "POST" and path in self._sign_in_paths:
            limit = settings.KAIROS_RATE_LOGIN_PER_MINUTE
            return ("login", f"login:{client_address(request)}", limit) if limit else None
        if path.startswith("/api/"):
            scheme, _, token = str(request.headers.get("Authorization", "")).partition(" ")
            token = token.strip()
            limit = settings.KAIROS_RATE_API_PER_MINUTE
            if scheme.lower() == "bearer" and token and limit:
                return ("api", f"api:{token_key(token)}", limit)
        return None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rule = self.classify(request)
        if rule is not None:
            bucket, key, limit = rule
            verdict = hit(key, limit, bucket=bucket)
            if not verdict.allowed:
                return too_many_requests(request, verdict)
        return self.get_response(request)
