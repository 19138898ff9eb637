from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from kairos.audit import selectors
from kairos.audit.forms import AuditFilterForm
from kairos.audit.models import Action, AuditEvent
from kairos.audit.services import record
from kairos.core import policies
from kairos.core.policies import Act

CSV_COLUMNS = [
    "id",
    "occurred_at",
    "clinic",
    "chain",
    "seq",
    "actor",
    "action",
    "patient_id",
    "object_type",
    "object_id",
    "summary",
    "reason",
    "request_id",
    "ip",
    "old",
    "new",
    "hash",
]


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formula injection (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _filtered(request: HttpRequest, perm: str) -> tuple[AuditFilterForm, QuerySet[AuditEvent]]:
    if not policies.any_clinic(request.user, perm):
        raise PermissionDenied("your role may not view the audit trail")
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.search(
        request.user, perm=perm, **{k: v for k, v in filters.items() if v not in (None, "")}
    )
    return form, qs


def _record_search(request: HttpRequest, page_number: int, shown_clinics: list[int | None]) -> None:
    """The auditor's own search is audited: one READ per clinic whose trail they may search, with the
    filters as typed, the page and how many of that clinic's rows the page showed (sign-in rows of the
    global chain are counted under ``global``)."""
    filters = {k: v[:200] for k, v in request.GET.items() if k != "page"}
    for clinic_id in policies.clinic_ids_for(request.user, Act.AUDIT_VIEW):
        record(
            Action.READ,
            actor=request.user,
            clinic=clinic_id,
            object_type="audit.search",
            object_id=clinic_id,
            summary=f"audit trail searched (page {page_number})",
            new={
                "filters": filters,
                "page": page_number,
                "shown": sum(c == clinic_id for c in shown_clinics),
                "shown_global": sum(c is None for c in shown_clinics),
            },
        )


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    form, qs = _filtered(request, Act.AUDIT_VIEW)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    _record_search(request, page.number, [e.clinic_id for e in page.object_list])
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_export": policies.any_clinic(request.user, Act.AUDIT_EXPORT),
        },
        status=400 if form.errors else 200,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form, qs = _filtered(request, Act.AUDIT_EXPORT)
    if form.errors:
        return HttpResponse(
            "invalid filter: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items()), status=400
        )
    for clinic_id in policies.clinic_ids_for(request.user, Act.AUDIT_EXPORT):
        record(
            Action.EXPORT,
            actor=request.user,
            clinic=clinic_id,
            object_type="audit.auditevent",
            summary="audit trail exported",
            new={"filters": request.GET.dict()},
        )
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for e in qs.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        e.pk,
                        e.occurred_at.isoformat(),
                        e.clinic.name if e.clinic else "",
                        e.chain,
                        e.seq,
                        e.actor_username,
                        e.action,
                        e.patient_id or "",
                        e.object_type,
                        e.object_id,
                        e.summary,
                        e.reason,
                        e.request_id,
                        e.ip or "",
                        e.old,
                        e.new,
                        e.hash,
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="kairos-audit.csv"'
    return response
