"""One client address for rate limits, django-axes and the audit trail: REMOTE_ADDR, or behind our TLS
proxy (KAIROS_BEHIND_TLS_PROXY=1) the X-Forwarded-For entry the proxy wrote."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from kairos.audit.models import AuditEvent
from kairos.web.ratelimit import client_ip

LOGIN = "/accounts/login/"


@pytest.mark.parametrize(
    ("behind_proxy", "remote", "forwarded", "expected"),
    [
        (False, "198.51.100.1", "192.0.2.9", "198.51.100.1"),  # no proxy: the header is ignored
        (True, "127.0.0.1", "10.0.0.1, 192.0.2.9", "192.0.2.9"),  # the last entry is the proxy's
        (True, "127.0.0.1", "192.0.2.9, ", "192.0.2.9"),
        (True, "127.0.0.1", "2001:db8::1", "2001:db8::1"),
        (True, "127.0.0.1", "", "127.0.0.1"),  # no header: the peer
        (True, "127.0.0.1", "not-an-address", "127.0.0.1"),  # garbage never becomes an address
        (False, "", "", None),
    ],
)
def test_client_ip(settings, behind_proxy, remote, forwarded, expected):
    settings.KAIROS_BEHIND_TLS_PROXY = behind_proxy
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def _fail(client: Client, forwarded: str) -> int:
    r = client.post(
        LOGIN, {"username": "prescriber", "password": "wrong-password-1"}, HTTP_X_FORWARDED_FOR=forwarded
    )
    return r.status_code


@pytest.mark.django_db
def test_axes_lockout_without_proxy_ignores_forged_forwarded_for(settings, org):
    """Rotating X-Forwarded-For does not escape django-axes' username+address lock-out."""
    settings.KAIROS_BEHIND_TLS_PROXY = False
    c = Client(REMOTE_ADDR="198.51.100.9")
    for n in range(settings.AXES_FAILURE_LIMIT):
        _fail(c, f"10.0.0.{n}")
    r = c.post(
        LOGIN, {"username": "prescriber", "password": "pw-for-tests-1"}, HTTP_X_FORWARDED_FOR="10.0.0.99"
    )
    assert r.status_code in (403, 429) and "_auth_user_id" not in c.session


@pytest.mark.django_db
def test_axes_lockout_behind_proxy_is_per_client_not_per_proxy(settings, org):
    """Behind the proxy every request comes from 127.0.0.1: axes must lock the attacker's address, not
    the proxy's (which would lock the real user out too)."""
    settings.KAIROS_BEHIND_TLS_PROXY = True
    proxy = Client(REMOTE_ADDR="127.0.0.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _fail(proxy, "192.0.2.66")
    attacker = proxy.post(
        LOGIN, {"username": "prescriber", "password": "pw-for-tests-1"}, HTTP_X_FORWARDED_FOR="192.0.2.66"
    )
    assert attacker.status_code in (403, 429)
    user = Client(REMOTE_ADDR="127.0.0.1")
    r = user.post(
        LOGIN, {"username": "prescriber", "password": "pw-for-tests-1"}, HTTP_X_FORWARDED_FOR="192.0.2.7"
    )
    assert r.status_code == 302 and r["Location"] != reverse("accounts:login")


@pytest.mark.django_db
def test_audit_records_the_client_address_behind_the_proxy(settings, org):
    settings.KAIROS_BEHIND_TLS_PROXY = True
    before = AuditEvent.objects.count()
    c = Client(REMOTE_ADDR="127.0.0.1")
    r = c.post(
        LOGIN, {"username": "prescriber", "password": "pw-for-tests-1"}, HTTP_X_FORWARDED_FOR="192.0.2.44"
    )
    assert r.status_code == 302
    events = AuditEvent.objects.order_by("pk")[before:]
    assert events and {e.ip for e in events} == {"192.0.2.44"}
