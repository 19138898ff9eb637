from __future__ import annotations

import pytest


@pytest.fixture
def mailbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    mail.outbox = []
    return mail.outbox


@pytest.fixture
def make_link(org):
    from kairos.measures.services import links

    def make(patient, instruments=("phq9",), **kw):
        return links.create_link(org.frontdesk, patient, list(instruments), **kw)

    return make


def phq9_post(values):
    """Form fields for PHQ-9 items 1..9 (and none for the optional item 10)."""
    return {f"phq9-{i}": str(v) for i, v in zip(range(1, 10), values, strict=True)}
