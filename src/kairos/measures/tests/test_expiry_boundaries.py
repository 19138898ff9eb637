"""Expiry instants on both sides (issue #17 §1): one second before ``expires_at`` the link, token or
break-glass grant still works; at ``expires_at`` it no longer does (the window is half-open)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from kairos.access import selectors as access_selectors
from kairos.access.models import BreakGlassGrant
from kairos.accounts import services as accounts_services
from kairos.measures.services import links

pytestmark = pytest.mark.django_db

ONE_SECOND = dt.timedelta(seconds=1)


def test_questionnaire_link_usable_until_one_second_before_expiry(patient: Any, make_link: Any) -> None:
    link, token = make_link(patient)
    assert link.expires_at - link.created_at >= dt.timedelta(hours=1)
    with time_machine.travel(link.expires_at - ONE_SECOND, tick=False):
        found = links.resolve_link(token)
        assert found is not None and found.pk == link.pk
    with time_machine.travel(link.expires_at, tick=False):
        assert links.resolve_link(token) is None
    assert link.usable(now=link.expires_at - ONE_SECOND) is True
    assert link.usable(now=link.expires_at) is False


def test_api_token_refused_from_its_expiry_instant(org: Any) -> None:
    token, raw = accounts_services.create_token(org.prescriber, "boundary", days=30)
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    with time_machine.travel(token.expires_at - ONE_SECOND, tick=False):
        assert accounts_services.authenticate_token(raw) == org.prescriber
    with time_machine.travel(token.expires_at, tick=False):
        with pytest.raises(accounts_services.TokenRefused) as exc:
            accounts_services.authenticate_token(raw)
        assert exc.value.status == 401
        assert str(exc.value).startswith("token expired on ")


def test_break_glass_grant_ends_at_its_expiry_instant(org: Any, patient: Any) -> None:
    expires = timezone.now() + dt.timedelta(minutes=60)
    grant = BreakGlassGrant.objects.create(
        user=org.south_prescriber, patient=patient, reason="boundary test", expires_at=expires
    )
    with time_machine.travel(expires - ONE_SECOND, tick=False):
        assert access_selectors.active_grant(org.south_prescriber, patient) == grant
        assert grant.active
    with time_machine.travel(expires, tick=False):
        assert access_selectors.active_grant(org.south_prescriber, patient) is None
        assert not grant.active
