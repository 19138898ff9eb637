"""Break-glass: emergency access to one patient of another clinic of the same organisation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kairos.access.models import BreakGlassGrant
from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies, reasons
from kairos.core.actor import Actor
from kairos.core.reasons import require_reason


def _tasks() -> Any:
    from kairos.access import tasks

    return tasks


# One answer for every MRN that does not open a grant: unknown, in a clinic of another organisation, or in a
# clinic id the user may not name. It names no clinic and says nothing about whether the MRN exists anywhere.
BREAK_GLASS_REASON_MIN = reasons.SIGNED_MIN_LENGTH
BREAK_GLASS_REASON_MAX = reasons.SIGNED_MAX_LENGTH
NOT_GRANTED = "no patient with that MRN in that clinic of your organisation"


def request_break_glass(user: Actor, clinic_id: int, mrn: str, reason: str) -> BreakGlassGrant:
    """Grant ``user`` time-limited chart access to the patient with ``mrn`` in ``clinic_id``.

    Only prescribers and nurses may break glass, only within their own organisation, and only with a
    reason of at least 15 characters. The grant is audited in the patient's clinic chain and the
    clinic admins are notified (email, through the worker, after commit).

    Non-disclosure (issue #9): whether an MRN exists is never revealed. Every refused request — unknown MRN,
    MRN of a clinic of another organisation, clinic outside the organisation — runs the same single lookup,
    writes the same ``denied`` audit row (in the requester's own clinic chain, never the target's, so the
    chain written does not depend on the target) and raises the same :data:`NOT_GRANTED` error; the denial
    is committed even though the request fails, so probing for MRNs leaves a trace.
    """
    grant = _grant_or_deny(user, clinic_id, mrn, reason)
    if grant is None:
        raise ValidationError({"mrn": NOT_GRANTED})
    return grant


@transaction.atomic
def _grant_or_deny(user: Actor, clinic_id: int, mrn: str, reason: str) -> BreakGlassGrant | None:
    from kairos.accounts.models import Clinic
    from kairos.patients.models import Patient

    reason = require_reason(
        reason,
        min_length=BREAK_GLASS_REASON_MIN,
        max_length=BREAK_GLASS_REASON_MAX,
        hint="say why access is needed",
    )
    my_roles = policies.memberships(user)
    own = sorted(cid for cid, role in my_roles.items() if role in policies.BREAK_GLASS_ROLES)
    if not own:
        raise ValidationError({"__all__": "only prescribers and nurses may use break-glass access"})
    mrn = mrn.strip()
    # One query whatever the answer: the patient only if the clinic is in one of the user's organisations.
    my_orgs = Clinic.objects.filter(pk__in=list(my_roles)).values("organisation_id")
    patient = Patient.objects.filter(
        clinic_id=clinic_id, mrn=mrn, clinic__organisation_id__in=my_orgs
    ).first()
    if patient is None:
        record(
            Action.DENIED,
            actor=user,
            clinic=own[0],
            object_type="patients.patient",
            new={"clinic_id": clinic_id, "mrn": mrn},
            reason=reason,
            summary="break-glass refused: no patient with that MRN in that clinic of the organisation",
        )
        return None
    grant = BreakGlassGrant.objects.create(
        user=user,
        patient=patient,
        reason=reason,
        expires_at=timezone.now() + dt.timedelta(minutes=settings.KAIROS_BREAK_GLASS_MINUTES),
    )
    record(
        Action.BREAK_GLASS,
        actor=user,
        patient=patient,
        obj=grant,
        reason=reason,
        new={"expires_at": grant.expires_at},
        summary="break-glass access granted",
    )
    transaction.on_commit(lambda: _tasks().notify_break_glass.enqueue(grant.pk))
    return grant


@transaction.atomic
def mark_reviewed(user: Actor, grant_id: int) -> BreakGlassGrant:
    grant = BreakGlassGrant.objects.select_for_update(of=("self",)).select_related("patient").get(pk=grant_id)
    policies.require(user, policies.Act.BREAK_GLASS_REVIEW, grant.patient.clinic_id)
    if grant.reviewed_at is None:
        grant.reviewed_by = user
        grant.reviewed_at = timezone.now()
        grant.save(update_fields=["reviewed_by", "reviewed_at"])
        record(
            Action.UPDATE,
            actor=user,
            patient=grant.patient,
            obj=grant,
            new={"reviewed": True},
            summary="break-glass reviewed",
        )
    return grant
