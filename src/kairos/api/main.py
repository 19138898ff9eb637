"""The API instance. ``docs/openapi.json`` is its committed schema (tests fail on unreviewed change;
regenerate with ``make openapi``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError

from kairos.api.auth import BearerToken

api = NinjaAPI(
    title="Kairos API",
    version="1",
    description="Clinic-scoped JSON API. Authenticate with `Authorization: Bearer <token>` (create a token on "
    "your settings page or with `kairos token create USERNAME`). Objects outside your clinics answer 404.",
    auth=BearerToken(),
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request, {"detail": "Authentication required: send Authorization: Bearer <token>"}, status=401
    )


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        detail = [
            {"loc": ["body", field], "msg": "; ".join(str(m) for msgs in [errs] for m in msgs)}
            for field, errs in exc.message_dict.items()
        ]
    else:
        detail = [{"loc": ["body"], "msg": m} for m in exc.messages]
    return api.create_response(request, {"detail": detail}, status=422)


def _register_routers() -> None:
    from kairos.patients.api import router as patients_router

    api.add_router("/patients", patients_router)
    from kairos.courses.api import router as courses_router

    api.add_router("/courses", courses_router)
    from kairos.courses.api import appointments_router

    api.add_router("/appointments", appointments_router)
    from kairos.dosing.api import router as sessions_router

    api.add_router("/sessions", sessions_router)

    from kairos.measures.api import fhir_router, scores_router

    api.add_router("/fhir", fhir_router)
    api.add_router("/patients", scores_router)


_register_routers()
