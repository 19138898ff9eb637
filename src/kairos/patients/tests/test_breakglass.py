"""Break-glass: reason required, time-limited, audited, admins notified by the real worker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.http import Http404

from kairos.access import services
from kairos.accounts.models import Membership
from kairos.audit.models import Action, AuditEvent
from kairos.patients import selectors


@pytest.fixture
def south_admin(org):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_user("south_admin", "south-admin@test.invalid", "pw-for-tests-1")
    Membership.objects.create(user=admin, clinic=org.south, role="clinic_admin")
    return admin


@pytest.mark.django_db
def test_reason_is_required(org, south_patient):
    with pytest.raises(ValidationError) as err:
        services.request_break_glass(org.prescriber, org.south.pk, south_patient.mrn, "urgent")
    assert "reason" in err.value.message_dict


@pytest.mark.django_db
def test_other_organisation_and_other_roles_cannot_break_glass(org, patient):
    with pytest.raises(ValidationError):
        services.request_break_glass(
            org.far_prescriber, org.north.pk, patient.mrn, "patient collapsed in our waiting room"
        )
    with pytest.raises(ValidationError):
        services.request_break_glass(
            org.frontdesk, org.south.pk, "S-0001", "patient collapsed in our waiting room"
        )


@pytest.mark.django_db
def test_grant_opens_the_chart_and_expires(org, south_patient):
    with pytest.raises(Http404):
        selectors.read_patient(org.prescriber, south_patient.pk)
    grant = services.request_break_glass(
        org.prescriber, org.south.pk, south_patient.mrn, "patient collapsed in our waiting room"
    )
    assert selectors.read_patient(org.prescriber, south_patient.pk) == south_patient
    events = AuditEvent.objects.filter(patient=south_patient).order_by("seq")
    assert [e.action for e in events] == [Action.BREAK_GLASS, Action.READ]
    assert events[1].reason == grant.reason and "break-glass" in events[1].summary
    type(grant).objects.filter(pk=grant.pk).update(expires_at=grant.created_at - dt.timedelta(seconds=1))
    with pytest.raises(Http404):
        selectors.read_patient(org.prescriber, south_patient.pk)


@pytest.mark.django_db(transaction=True)
def test_admin_is_emailed_by_the_worker_after_commit(org, south_patient, south_admin):
    services.request_break_glass(
        org.prescriber, org.south.pk, south_patient.mrn, "patient collapsed in our waiting room"
    )
    assert mail.outbox == []  # nothing sent inside the request: the job waits for the worker
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    assert [m.to for m in mail.outbox] == [["south-admin@test.invalid"]]
    assert "break-glass" in mail.outbox[0].body.lower()


@pytest.mark.django_db(transaction=True)
def test_job_is_enqueued_only_on_commit(org, south_patient):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    class Boom(Exception):
        pass

    def request_then_fail() -> None:
        with transaction.atomic():
            services.request_break_glass(
                org.prescriber, org.south.pk, south_patient.mrn, "patient collapsed in our waiting room"
            )
            raise Boom

    with pytest.raises(Boom):
        request_then_fail()
    assert not DBTaskResult.objects.exists()
    services.request_break_glass(
        org.prescriber, org.south.pk, south_patient.mrn, "patient collapsed in our waiting room"
    )
    assert DBTaskResult.objects.count() == 1  # the committed request did enqueue
