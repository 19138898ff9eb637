"""Dosing-session API: list, whole structured record, REMS form fields. Scoped like the pages; reads audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from kairos.audit.models import Action
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.clinics import get_in_clinic
from kairos.core.pagination import Page, page_of
from kairos.core.policies import Act
from kairos.courses.models import Appointment
from kairos.dosing import records, selectors, services
from kairos.dosing.models import Drug, SessionStatus

router = Router(tags=["sessions"])


class SessionFilter(Schema):
    patient: int | None = Field(None, ge=1, le=2**63 - 1)
    drug: Drug | None = None
    status: SessionStatus | None = None
    date: dt.date | None = None
    limit: int = Field(100, ge=1, le=500)


class SessionOut(Schema):
    id: int
    patient_id: int
    clinic_id: int
    protocol_id: str
    drug: str
    route: str
    status: str
    scheduled_for: dt.datetime
    version: int


class SessionPage(Page[SessionOut]):
    """The one list shape of /api/v1 (:mod:`kairos.core.pagination`)."""


@router.get("", response=SessionPage, summary="Dosing sessions of your clinics")
def list_sessions(request: HttpRequest, filters: Query[SessionFilter]) -> dict[str, Any]:
    if not policies.any_clinic(request.user, Act.SESSION_VIEW):
        raise PermissionDenied("your role may not session.view")
    qs = selectors.visible_sessions(request.user)
    if filters.patient is not None:
        qs = qs.filter(patient_id=filters.patient)
    if filters.drug:
        qs = qs.filter(drug=filters.drug)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.date is not None:
        qs = selectors.on_local_date(qs, filters.date)
    sessions = list(qs.order_by("-scheduled_for", "-pk")[: max(1, min(filters.limit, 500))])
    for clinic_id in sorted({s.clinic_id for s in sessions}):
        record(
            Action.READ,
            actor=request.user,
            clinic=clinic_id,
            object_type="dosing.sessions",
            summary=f"API session list ({sum(s.clinic_id == clinic_id for s in sessions)} shown)",
        )
    return page_of(sessions)


class StartIn(Schema):
    appointment: int = Field(..., ge=1, le=2**63 - 1)


class StartRefusedOut(Schema):
    detail: str
    code: str  # "cancelled" | "not_dosing"


@router.post(
    "",
    response={200: SessionOut, 201: SessionOut, 409: StartRefusedOut},
    summary="Start the dosing session of a booked dosing appointment (idempotent)",
    description="201: created from the appointment (protocol from its course). 200: the appointment's existing "
    "session. 404: no such appointment in your clinics. 409: the appointment is cancelled or not a dosing one.",
)
def start_session(request: HttpRequest, payload: StartIn) -> Status[Any]:
    appt = get_in_clinic(
        request.user,
        Appointment.objects.select_related("course", "patient"),
        payload.appointment,
        Act.SESSION_CHART,
    )
    try:
        session, created = services.start_session_from_appointment(actor_of(request), appt)
    except services.StartRefused as exc:
        return Status(409, {"detail": exc.detail, "code": exc.code})
    return Status(201 if created else 200, session)


@router.get("/{session_id}", summary="One session's whole structured record (an audited read)")
def get_session(request: HttpRequest, session_id: int) -> dict[str, Any]:
    session = selectors.read_session(request.user, session_id, purpose="API session record")
    return records.session_record(session)


@router.get("/{session_id}/rems-form", summary="REMS Patient Monitoring Form fields (esketamine sessions)")
def get_rems_form(request: HttpRequest, session_id: int) -> dict[str, Any]:
    session = selectors.read_session(request.user, session_id, purpose="API REMS form")
    if not session.is_esketamine:
        from django.http import Http404

        raise Http404("no REMS form: not an esketamine session")
    form = selectors.build_rems_form(session)
    data = form.to_dict()
    data["tracking"] = records.rems_form_summary(session, timezone.now())
    return data
