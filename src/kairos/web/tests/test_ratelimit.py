"""Rate limits: 429 + Retry-After for questionnaire links, sign-in and token API; atomic counters."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import pytest
import time_machine
from django.conf import settings as dj_settings
from django.test import Client
from django.urls import reverse

from kairos.accounts.services import create_token
from kairos.web.models import RateCounter
from kairos.web.ratelimit import WINDOW_SECONDS, hit

# 10 seconds into a fixed 60-second window: Retry-After is exactly 50 while the clock is frozen.
WINDOW_START = 1_800_000_000 - (1_800_000_000 % WINDOW_SECONDS)
T0 = dt.datetime.fromtimestamp(WINDOW_START + 10, tz=dt.UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_defaults_leave_room_for_normal_traffic():
    """The suite runs with the shipped defaults (nothing overrides them), so the permission matrix and
    every other test exercise the middleware without being throttled."""
    assert dj_settings.KAIROS_RATE_LINK_PER_MINUTE == 60
    assert dj_settings.KAIROS_RATE_LOGIN_PER_MINUTE == 30
    assert dj_settings.KAIROS_RATE_API_PER_MINUTE == 600
    assert "kairos.web.ratelimit.RateLimitMiddleware" in dj_settings.MIDDLEWARE


@pytest.mark.django_db
def test_questionnaire_link_guessing_gets_429_with_retry_after(settings, frozen):
    settings.KAIROS_RATE_LINK_PER_MINUTE = 3
    guesser = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(3):
        assert guesser.get(f"/q/guess-{n}/").status_code == 404  # the same "unavailable" page
    r = guesser.get("/q/guess-3/")
    assert r.status_code == 429
    assert r["Retry-After"] == "50"
    assert r["Content-Type"].startswith("text/html")
    body = r.content.decode()
    assert "Too many questionnaire link requests" in body and "3 per 60 seconds" in body
    assert "guess-3" not in body
    # POSTs count in the same bucket; another address is not affected.
    assert guesser.post("/q/guess-4/", {}).status_code == 429
    assert Client(REMOTE_ADDR="203.0.113.8").get("/q/guess-5/").status_code == 404
    # The next window starts afresh.
    frozen.shift(dt.timedelta(seconds=50))
    assert guesser.get("/q/guess-6/").status_code == 404


@pytest.mark.django_db
def test_sign_in_posts_are_limited_per_address_across_usernames(settings, frozen, org):
    settings.KAIROS_RATE_LOGIN_PER_MINUTE = 3
    c = Client(REMOTE_ADDR="198.51.100.4")
    url = reverse("accounts:login")
    for n in range(3):  # a password spray: one attempt per username, below axes' per-username lock-out
        r = c.post(url, {"username": f"user{n}", "password": "wrong-password-1"})
        assert r.status_code == 200  # the form again, with an error
    assert c.get(url).status_code == 200  # showing the form is not an attempt
    r = c.post(url, {"username": "prescriber", "password": "pw-for-tests-1"})
    assert r.status_code == 429
    assert r["Retry-After"] == "50"
    assert "Too many sign-in attempts" in r.content.decode()
    assert "_auth_user_id" not in c.session  # the right password did not get through either
    assert c.post(reverse("accounts:2fa_verify"), {"code": "123456"}).status_code == 429  # same bucket
    other = Client(REMOTE_ADDR="198.51.100.5")
    assert other.post(url, {"username": "prescriber", "password": "pw-for-tests-1"}).status_code == 302


@pytest.mark.django_db
def test_token_api_is_limited_per_token_keyed_on_a_hash(settings, frozen, org, api_client_for):
    settings.KAIROS_RATE_API_PER_MINUTE = 3
    _, raw = create_token(org.prescriber, "integration")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    for _ in range(3):
        assert client.get("/api/v1/patients").status_code == 200
    r = client.get("/api/v1/patients")
    assert r.status_code == 429
    assert r["Retry-After"] == "50"
    assert r.json() == {
        "detail": "Too many API requests with this token: the limit is 3 per 60 seconds. "
        "Try again in 50 seconds."
    }
    # Another token of the same user from the same address has its own budget.
    assert api_client_for(org.prescriber).get("/api/v1/patients").status_code == 200
    # The table holds a hash prefix of the token, never the token.
    keys = list(RateCounter.objects.values_list("key", flat=True))
    assert f"api:{hashlib.sha256(raw.encode()).hexdigest()[:40]}" in keys
    assert not any(raw in k or raw[-20:] in k for k in keys)
    counts = dict(RateCounter.objects.values_list("key", "count"))
    assert counts[f"api:{hashlib.sha256(raw.encode()).hexdigest()[:40]}"] == 4


@pytest.mark.django_db
def test_requests_outside_the_buckets_are_not_counted(settings, org, client_for):
    settings.KAIROS_RATE_LINK_PER_MINUTE = 1
    settings.KAIROS_RATE_LOGIN_PER_MINUTE = 1
    c = client_for(org.prescriber)
    for _ in range(3):
        assert c.get("/health").status_code == 200
        assert c.get(reverse("accounts:login")).status_code in (200, 302)
        assert c.get("/api/v1/patients").status_code == 401  # no bearer token: not an API-token request
    assert RateCounter.objects.count() == 0


@pytest.mark.django_db
def test_zero_turns_a_limit_off(settings):
    settings.KAIROS_RATE_LINK_PER_MINUTE = 0
    c = Client()
    for n in range(5):
        assert c.get(f"/q/x{n}/").status_code == 404
    assert RateCounter.objects.count() == 0


@pytest.mark.django_db
def test_client_address_behind_the_proxy_is_the_proxy_appended_one(settings, frozen):
    """Behind our proxy the last X-Forwarded-For entry is the client; entries a client prepends itself
    change nothing. Without the proxy setting, X-Forwarded-For is ignored entirely."""
    settings.KAIROS_RATE_LINK_PER_MINUTE = 2
    settings.KAIROS_BEHIND_TLS_PROXY = True
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for n in range(2):
        r = proxy.get(f"/q/a{n}/", headers={"X-Forwarded-For": f"10.9.9.{n}, 192.0.2.50"})
        assert r.status_code == 404
    r = proxy.get("/q/a3/", headers={"X-Forwarded-For": "10.9.9.99, 192.0.2.50"})
    assert r.status_code == 429
    assert proxy.get("/q/a4/", headers={"X-Forwarded-For": "192.0.2.51"}).status_code == 404
    assert set(RateCounter.objects.values_list("key", flat=True)) == {"link:192.0.2.50", "link:192.0.2.51"}

    settings.KAIROS_BEHIND_TLS_PROXY = False
    direct = Client(REMOTE_ADDR="198.51.100.77")
    for n in range(2):
        direct.get(f"/q/b{n}/", headers={"X-Forwarded-For": f"10.1.1.{n}"})
    assert direct.get("/q/b3/", headers={"X-Forwarded-For": "10.1.1.200"}).status_code == 429
    assert "link:198.51.100.77" in set(RateCounter.objects.values_list("key", flat=True))


@pytest.mark.django_db
def test_counter_counts_and_prunes_old_windows():
    now = float(WINDOW_START + 1)
    assert [hit("k", 5, bucket="link", now=now).count for _ in range(3)] == [1, 2, 3]
    v = hit("k", 2, bucket="link", now=now)
    assert (v.count, v.allowed, v.retry_after) == (4, False, 59)
    assert hit("other", 5, bucket="link", now=now + WINDOW_SECONDS).count == 1  # the previous window stays
    assert RateCounter.objects.filter(key="k").count() == 1
    assert hit("k", 5, bucket="link", now=now + 3 * WINDOW_SECONDS).count == 1  # older windows pruned
    assert sorted(RateCounter.objects.values_list("key", "count")) == [("k", 1)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_counter_is_exact_under_concurrency():
    """8 threads × 25 hits, each thread on its own connection: exactly 200, and every count handed out
    once (a read-then-write counter would repeat counts and end below 200)."""
    from django.db import connections

    now = float(WINDOW_START + 5)
    seen: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        try:
            start.wait()
            counts = [hit("concurrent", 10_000, bucket="api", now=now).count for _ in range(25)]
            with lock:
                seen.extend(counts)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert RateCounter.objects.get(key="concurrent").count == 200
    assert sorted(seen) == list(range(1, 201))
