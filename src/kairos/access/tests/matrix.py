"""The permission matrix: who may reach every page route and every API operation.

The coverage test (``test_permission_matrix.py::test_every_route_has_a_matrix_entry``) walks
``get_resolver().url_patterns`` recursively and lists every operation of ``api.get_openapi_schema()``;
each named page route and each ``METHOD /api/v1/path`` operation needs at least one :class:`Entry`
here or in an app's own entries file, or must be listed in :data:`EXEMPT` with a reason.

How an app adds its entries (no edit of this file needed)
----------------------------------------------------------
Create ``src/kairos/<app>/tests/matrix_entries.py`` exposing ``ENTRIES: list[Entry]``; the collector
(:func:`collect_entries`) imports ``kairos.<app>.tests.matrix_entries`` for every installed
``kairos.*`` app that has one. Example::

    from kairos.access.tests.matrix import CLINICAL_READERS, Entry, World

    def _course(w: World) -> dict[str, object]:
        course = w.once("course", lambda: make_course(w.patient))   # built once per test
        return {"patient_id": w.patient.pk, "course_id": course.pk}

    ENTRIES = [
        Entry("courses:detail", phi=True, allowed=CLINICAL_READERS, kwargs=_course),
        Entry("courses:new", phi=True, method="POST", allowed=frozenset({"prescriber"}),
              kwargs=lambda w: {"patient_id": w.patient.pk}, data=lambda w: {"protocol": "x"}),
        Entry("POST /api/v1/courses", phi=True, allowed=frozenset({"prescriber"}), data=lambda w: {...}),
    ]

Personas are the ``org`` fixture's users (root ``conftest.py``): north staff ``prescriber``, ``nurse``,
``therapist``, ``frontdesk``, ``admin`` (clinic_admin), ``auditor``, ``researcher``; ``south_prescriber``
(other clinic, same organisation); ``far_prescriber`` (other organisation); ``nobody`` (no clinic).
The objects a route acts on belong to clinic *north* (``w.patient`` is north's patient).

For every entry the test checks:

* anonymous: a page redirects to the login page; an API operation answers 401;
* foreign clinic (``south_prescriber``, ``far_prescriber``, unless listed in ``allowed``): an ``object``
  route answers 404 (never 403, never data); a ``collection`` route may answer, but shows no north data;
* same clinic without permission (north personas not in ``allowed``, and ``nobody``): ``denied_status``
  (403, or 404 where the object itself is hidden from them, e.g. another user's API token);
* every permitted persona: 2xx, or a 3xx that is not a redirect to the login page;
* a refused request (anonymous, foreign, unpermitted) changes no rows: counts of every model of the
  ``kairos.*`` apps and of the OTP devices, and of audit events other than sign-in/out and ``denied``;
  a signed-in user refused (403/404) on an ``object`` route whose URL names the object (``patient_id``,
  ``session_id``, …) writes a ``denied`` audit event (:mod:`kairos.audit.middleware`);
* ``phi=True`` (the route shows or changes patient data): every permitted north persona's request writes
  an audit row: a ``read`` or ``export`` for GET (naming the patient on ``object`` routes whose URL names
  a patient-owned object), any row for POST-like methods. ``phi`` must be set on every entry.

Each request runs in a transaction that is rolled back, so every persona sees the same starting rows.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.urls import URLPattern, URLResolver

NORTH_STAFF = ("prescriber", "nurse", "therapist", "frontdesk", "admin", "auditor", "researcher")
FOREIGN = ("south_prescriber", "far_prescriber")
EVERYONE = frozenset({*NORTH_STAFF, *FOREIGN, "nobody"})

# Convenience sets (spelled out, not derived from kairos.core.policies, so the matrix is an
# independent statement of what the policy must be).
CLINICAL_READERS = frozenset({"prescriber", "nurse", "therapist", "auditor"})  # may open a chart
REGISTRY = frozenset({"prescriber", "nurse", "therapist", "frontdesk", "admin"})  # see patient names
REGISTRARS = frozenset({"prescriber", "nurse", "frontdesk", "admin"})  # register/edit patients
AUDIT_READERS = frozenset({"auditor", "admin"})

API_ROUTE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/\S*)$")


class World:
    """What a route's URL kwargs and payloads are built from: the ``org`` fixture and north's patient.

    ``once(key, factory)`` builds an object at most once per test (e.g. a token or a grant).
    """

    def __init__(self, org: Any, patient: Any) -> None:
        self.org = org
        self.patient = patient
        self._cache: dict[str, Any] = {}

    def once(self, key: str, factory: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = factory()
        return self._cache[key]

    def user(self, persona: str) -> Any:
        return getattr(self.org, persona)


def _no_kwargs(w: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Entry:
    """One route × method and the personas permitted to use it.

    ``route``: a URL name (``"patients:chart"``) or an API operation (``"GET /api/v1/patients/{patient_id}"``,
    the path exactly as in the OpenAPI document). ``kwargs(world)``: URL kwargs (pages) or path
    parameters (API). ``data(world)``: a *valid* form body (pages) or JSON body (API) for POST-like
    methods, so that a refusal is due to the permission and not to the input. ``scope``: ``object`` when
    the URL names one clinic-owned object (foreign → 404), ``collection`` otherwise. ``phi``: whether the
    route shows or changes patient data (then every permitted north request writes an audit row).
    """

    route: str
    allowed: frozenset[str]
    method: str = "GET"
    kwargs: Callable[[World], dict[str, Any]] = _no_kwargs
    data: Callable[[World], dict[str, Any]] | None = None
    scope: Literal["object", "collection"] = "object"
    denied_status: int = 403
    nobody_status: int | None = None  # default: 404 for object routes, denied_status for collections
    ok_status: frozenset[int] = field(default_factory=lambda: frozenset({200, 201, 204, 302, 303}))
    query: str | Callable[[World], str] = ""  # query string, or built from the world (e.g. a date)
    # Does a permitted request show or change patient data? True: it must write an audit row (a READ or
    # EXPORT for GET, any row for POST-like methods); False: it shows none. Every entry sets it.
    phi: bool | None = None

    def __post_init__(self) -> None:
        m = API_ROUTE.match(self.route)
        if m and m.group(1) != self.method and self.method != "GET":
            raise ValueError(f"{self.route}: method is given by the route")
        if m:
            object.__setattr__(self, "method", m.group(1))
        unknown = set(self.allowed) - EVERYONE
        if unknown:
            raise ValueError(f"{self.route}: unknown personas {sorted(unknown)}")

    @property
    def is_api(self) -> bool:
        return API_ROUTE.match(self.route) is not None

    @property
    def key(self) -> str:
        return self.route if self.is_api else f"{self.method} {self.route}"

    def expected_nobody(self) -> int:
        if self.nobody_status is not None:
            return self.nobody_status
        return 404 if self.scope == "object" else self.denied_status

    def __str__(self) -> str:
        return self.key


# ---------------------------------------------------------------------------------------------
# Routes without a matrix entry, each with the reason.
# ---------------------------------------------------------------------------------------------
EXEMPT: dict[str, str] = {
    "accounts:login": "the sign-in page itself: public by necessity (throttled by django-axes)",
    "accounts:logout": "ends the caller's own session only; POST-only, no data",
    "health": "liveness probe for load balancers: answers 'ok', reads nothing",
    "api:openapi-json": "the published API description (also committed as docs/openapi.json); no data",
    "api:openapi-view": "Swagger UI page rendering the API description; no data",
    "api:api-root": "django-ninja's root of /api/v1/ (no operation); no data",
    "measures:patient_form": "patient questionnaire page: no login by design; the signed single-use token is the "
    "credential (kairos.measures.tests.test_links: used/expired/tampered links get one identical 404 page)",
    "accounts:invitation": "a staff invitation's set-password page: no login by design; the single-use, "
    "expiring token is the credential (kairos.accounts.tests.test_staff_admin: used/expired/revoked/unknown "
    "links get one identical 404 page)",
    # Static files are served outside the URL resolver (STATIC_URL, by the web server / runserver).
}


# ---------------------------------------------------------------------------------------------
# Foundation entries (accounts, patients, audit, access, web, patients API).
# ---------------------------------------------------------------------------------------------
def _patient(w: World) -> dict[str, Any]:
    return {"patient_id": w.patient.pk}


def _token(w: World) -> dict[str, Any]:
    from kairos.accounts.services import create_token

    token = w.once("token", lambda: create_token(w.org.prescriber, "matrix")[0])
    return {"token_id": token.pk}


def _grant(w: World) -> dict[str, Any]:
    from kairos.access.services import request_break_glass

    grant = w.once(
        "grant",
        lambda: request_break_glass(
            w.org.south_prescriber, w.org.north.pk, w.patient.mrn, "emergency: covering for north"
        ),
    )
    return {"grant_id": grant.pk}


def _new_patient_form(w: World) -> dict[str, Any]:
    return {
        "clinic": w.org.north.pk,
        "mrn": "M-9001",
        "given_name": "Matrix",
        "family_name": "Newcomer",
        "date_of_birth": "1990-04-05",
        "sex": "female",
        "email": "",
        "phone": "",
    }


def _edit_patient_form(w: World) -> dict[str, Any]:
    p = w.patient
    return {
        "mrn": p.mrn,
        "given_name": p.given_name,
        "family_name": "Renamed",
        "date_of_birth": p.date_of_birth.isoformat(),
        "sex": p.sex,
        "email": "",
        "phone": "",
    }


def _new_patient_json(w: World) -> dict[str, Any]:
    return {
        "clinic_id": w.org.north.pk,
        "mrn": "M-9002",
        "given_name": "Api",
        "family_name": "Newcomer",
        "date_of_birth": "1985-02-03",
        "sex": "male",
    }


FOUNDATION_ENTRIES: list[Entry] = [
    # web
    Entry("web:home", phi=False, allowed=EVERYONE, scope="collection"),
    # accounts: every signed-in user manages their own account
    Entry("accounts:2fa_verify", phi=False, allowed=EVERYONE, scope="collection"),
    Entry("accounts:2fa_setup", phi=False, allowed=EVERYONE, scope="collection"),
    Entry("accounts:settings", phi=False, allowed=EVERYONE, scope="collection"),
    Entry(
        "accounts:settings",
        phi=False,
        method="POST",
        allowed=EVERYONE,
        scope="collection",
        data=lambda w: {"name": "mine"},
    ),
    Entry(
        "accounts:token_revoke",
        phi=False,
        method="POST",
        allowed=frozenset({"prescriber"}),  # the token's owner only
        kwargs=_token,
        data=lambda w: {},
        denied_status=404,  # another user's token is hidden, not forbidden
    ),
    # patients
    Entry("patients:list", phi=True, allowed=REGISTRY | set(FOREIGN), scope="collection"),
    Entry("patients:new", phi=False, allowed=REGISTRARS | set(FOREIGN), scope="collection"),
    # foreign registrars may post, but not into north: the clinic choice is refused (400)
    Entry(
        "patients:new",
        phi=True,
        method="POST",
        allowed=REGISTRARS,
        scope="collection",
        data=_new_patient_form,
    ),
    Entry("patients:chart", phi=True, allowed=CLINICAL_READERS, kwargs=_patient),
    Entry("patients:edit", phi=True, allowed=REGISTRARS, kwargs=_patient),
    Entry(
        "patients:edit", phi=True, method="POST", allowed=REGISTRARS, kwargs=_patient, data=_edit_patient_form
    ),
    Entry(
        "patients:weight_add",
        phi=True,
        method="POST",
        allowed=frozenset({"prescriber", "nurse"}),
        kwargs=_patient,
        data=lambda w: {"weight_kg": "72.5"},
    ),
    Entry(
        "patients:height_add",
        phi=True,
        method="POST",
        allowed=frozenset({"prescriber", "nurse"}),
        kwargs=_patient,
        data=lambda w: {"height_cm": "172.5"},
    ),
    # audit
    Entry("audit:list", phi=True, allowed=AUDIT_READERS, scope="collection"),
    Entry("audit:export", phi=True, allowed=frozenset({"auditor"}), scope="collection"),
    # access (break-glass): prescribers and nurses of the organisation may ask; admins/auditors review
    Entry(
        "access:breakglass",
        phi=False,
        allowed=frozenset({"prescriber", "nurse", *FOREIGN}),
        scope="collection",
    ),
    Entry(
        "access:breakglass",
        phi=True,
        method="POST",
        allowed=frozenset({"prescriber", "nurse", "south_prescriber"}),  # far: other organisation → 400
        scope="collection",
        data=lambda w: {
            "clinic": w.org.north.pk,
            "mrn": w.patient.mrn,
            "reason": "emergency cover for a north patient",
        },
    ),
    Entry(
        "access:breakglass_review",
        phi=True,
        allowed=frozenset({"admin", "auditor"}),
        scope="collection",
        kwargs=lambda w: (_grant(w), {})[1],  # builds a grant on north's patient so the list shows one
    ),
    Entry(
        "access:breakglass_mark_reviewed",
        phi=True,
        method="POST",
        allowed=frozenset({"admin", "auditor"}),
        kwargs=_grant,
        data=lambda w: {},
    ),
    # API
    Entry("GET /api/v1/patients", phi=True, allowed=REGISTRY | set(FOREIGN), scope="collection"),
    Entry("POST /api/v1/patients", phi=True, allowed=REGISTRARS, data=_new_patient_json, nobody_status=403),
    Entry("GET /api/v1/patients/{patient_id}", phi=True, allowed=CLINICAL_READERS, kwargs=_patient),
]


# ---------------------------------------------------------------------------------------------
# Collecting entries and checking coverage.
# ---------------------------------------------------------------------------------------------
def collect_entries() -> list[Entry]:
    """Foundation entries plus ``ENTRIES`` of every installed ``kairos.<app>.tests.matrix_entries``."""
    from django.apps import apps

    entries = list(FOUNDATION_ENTRIES)
    for config in apps.get_app_configs():
        if not config.name.startswith("kairos."):
            continue
        module_name = f"{config.name}.tests.matrix_entries"
        try:
            found = importlib.util.find_spec(module_name) is not None
        except ModuleNotFoundError:  # the app has no tests package
            found = False
        if found:
            entries.extend(importlib.import_module(module_name).ENTRIES)
    return entries


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name" (nested namespaces joined by ":")
    path: str  # "/patients/<int:patient_id>/"


def walk_routes(
    patterns: Sequence[URLPattern | URLResolver], namespace: str = "", prefix: str = "/"
) -> list[Route]:
    """Every URL pattern under ``patterns``, recursively, with its qualified name and full path."""
    routes: list[Route] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}".strip(":") if p.namespace else namespace
            routes += walk_routes(p.url_patterns, ns, prefix + str(p.pattern))
        else:
            qualified = f"{namespace}:{p.name}".strip(":") if p.name else ""
            routes.append(Route(qualified, prefix + str(p.pattern)))
    return routes


def openapi_path(django_path: str) -> str:
    """``/api/v1/patients/<int:patient_id>`` → ``/api/v1/patients/{patient_id}``."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", django_path)


def api_operations(schema: dict[str, Any]) -> set[str]:
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def coverage_problems(
    routes: Iterable[Route], operations: set[str], entries: Iterable[Entry], exempt: Iterable[str] = EXEMPT
) -> list[str]:
    """What is missing from, or stale in, the matrix. Empty when every route is covered."""
    entries = list(entries)
    exempt = set(exempt)
    routes = list(routes)
    problems: list[str] = []
    page_names = {e.route for e in entries if not e.is_api}
    api_keys = {e.route for e in entries if e.is_api}
    api_paths = {op.split(" ", 1)[1] for op in operations}
    known_names = set()
    for r in routes:
        if not r.name:
            problems.append(f"unnamed route {r.path}: name it and add a matrix entry")
            continue
        known_names.add(r.name)
        if r.name in exempt or r.name in page_names:
            continue
        if openapi_path(r.path) in api_paths:
            continue  # an API operation: covered per method below
        problems.append(f"route {r.name} ({r.path}) has no permission-matrix entry and is not exempt")
    for op in sorted(operations - api_keys):
        problems.append(f"API operation {op} has no permission-matrix entry")
    for name in sorted(page_names - known_names):
        problems.append(f"stale matrix entry: no route named {name}")
    for key in sorted(api_keys - operations):
        problems.append(f"stale matrix entry: no API operation {key}")
    for name in sorted(exempt - known_names):
        problems.append(f"stale exemption: no route named {name}")
    return problems
