"""The Spravato REMS Patient Monitoring Form: sign and submit."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import Actor
from kairos.core.policies import Act
from kairos.dosing import selectors
from kairos.dosing.models import (
    DosingSession,
    RemsForm,
    SubmissionMethod,
)
from kairos.dosing.services.common import (
    _err,
    _fresh,
)

# --- REMS Patient Monitoring Form --------------------------------------------------------------------------


@transaction.atomic
def sign_rems_form(actor: Actor, session: DosingSession) -> RemsForm:
    policies.require(actor, Act.REMS_SUBMIT, session.clinic_id)
    session = _fresh(session)
    form = RemsForm.objects.select_for_update().get(session=session)
    if form.signed_at is not None:
        raise _err("form", "already signed")
    built = selectors.build_rems_form(session)
    if built.missing:
        raise ValidationError({"form": [f"{k}: required field missing" for k in built.missing]})
    if built.problems:
        raise ValidationError({"form": [f"{p.code}: {p.message}" for p in built.problems]})
    form.fields = built.to_dict()
    # The prescriber's pre-dose caution decisions travel with the signed form (issue #12 §2).
    form.fields["predose_decisions"] = [
        d.as_dict() for d in session.caution_decisions.select_related("decided_by")
    ]
    form.signed_by, form.signed_at = actor, timezone.now()
    form.save(update_fields=["fields", "signed_by", "signed_at"])
    record(
        Action.SIGN,
        actor=actor,
        patient=session.patient,
        obj=form,
        new={"due_date": form.due_date},
        summary="REMS monitoring form signed",
    )
    return form


@transaction.atomic
def submit_rems_form(
    actor: Actor,
    session: DosingSession,
    *,
    confirmation: str,
    method: str,
    submitted_on: dt.date | None = None,
) -> RemsForm:
    policies.require(actor, Act.REMS_SUBMIT, session.clinic_id)
    session = _fresh(session)
    form = RemsForm.objects.select_for_update().filter(session=session).first()
    if form is None or form.signed_at is None:
        raise _err("form", "sign the completed form before recording its submission")
    if form.submitted_at is not None:
        raise _err("form", "submission already recorded")
    confirmation = (confirmation or "").strip()
    if not 3 <= len(confirmation) <= 60:
        raise _err("confirmation", "the REMS confirmation number, 3–60 characters")
    today = selectors.local_date(session, timezone.now())
    day = submitted_on or today
    session_day = selectors.local_date(session, session.dosing_started_at or session.scheduled_for)
    if not session_day <= day <= today:
        raise _err(
            "submitted_on",
            f"{day.isoformat()} is outside the allowed range [{session_day.isoformat()}, {today.isoformat()}]",
        )
    if method not in SubmissionMethod.values:
        raise _err("method", f"how the form was submitted: one of {', '.join(SubmissionMethod.values)}")
    form.submitted_on, form.submitted_at, form.confirmation, form.submitted_by = (
        day,
        timezone.now(),
        confirmation,
        actor,
    )
    form.submission_method = method
    form.save(
        update_fields=["submitted_on", "submitted_at", "confirmation", "submitted_by", "submission_method"]
    )
    record(
        Action.EXPORT,
        actor=actor,
        patient=session.patient,
        obj=form,
        new={"submitted_on": day, "confirmation": confirmation, "method": method},
        summary="REMS monitoring form submitted",
    )
    return form
