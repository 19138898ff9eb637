"""Rule-set pages: the clinic's effective thresholds, their sources and the signed override history.

Clinical staff, the clinic admin and the auditor read (``RULES_VIEW``); a prescriber signs an override or a
revert (``RULES_OVERRIDE``). Another clinic is 404, a reader's POST 403, a bad value 400 naming the param
and its allowed range. With htmx a param page answers its panel only (``_param_panel.html``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from kairos.accounts.models import Clinic
from kairos.accounts.selectors import get_clinic
from kairos.clinical.config import ConfigError, Param
from kairos.core import policies
from kairos.core.actor import actor_of
from kairos.core.forms import add_service_errors
from kairos.core.policies import Act
from kairos.rulesets import catalogue, selectors, services
from kairos.rulesets.forms import OverrideForm, RevertForm


def _param(ruleset: str, key: str) -> Param:
    try:
        return catalogue.param(ruleset, key)
    except catalogue.UnknownRule as exc:
        raise Http404(str(exc)) from None


@login_required
def index(request: HttpRequest) -> HttpResponse:
    ids = policies.clinic_ids_for(request.user, Act.RULES_VIEW)
    if not ids:
        raise PermissionDenied("your role may not view the clinic's rules")
    if len(ids) == 1:
        return redirect("rulesets:clinic", clinic_id=ids[0])
    return render(
        request, "rulesets/index.html", {"clinics": Clinic.objects.filter(pk__in=ids).order_by("name")}
    )


@login_required
def clinic_rules(request: HttpRequest, clinic_id: int) -> HttpResponse:
    clinic = get_clinic(request.user, clinic_id, Act.RULES_VIEW)
    sets = catalogue.rule_sets()
    counts = selectors.override_counts(clinic.pk, [rs.name for rs in sets])
    rows = [
        {
            "rules": rs,
            "params": len(rs.params),
            "unconfirmed": len(rs.unconfirmed()),
            "overridable": sum(1 for p in rs if catalogue.overridable(p)),
            "overridden": counts[rs.name],
        }
        for rs in sets
    ]
    return render(request, "rulesets/clinic.html", {"clinic": clinic, "rows": rows})


@login_required
def ruleset_detail(request: HttpRequest, clinic_id: int, ruleset: str) -> HttpResponse:
    clinic = get_clinic(request.user, clinic_id, Act.RULES_VIEW)
    try:
        rules = catalogue.rule_set(ruleset)
    except catalogue.UnknownRule as exc:
        raise Http404(str(exc)) from None
    ctx = {
        "clinic": clinic,
        "rules": rules,
        "params": selectors.effective_params(clinic.pk, ruleset),
        "can_override": policies.can(request.user, Act.RULES_OVERRIDE, clinic.pk),
    }
    return render(request, "rulesets/ruleset.html", ctx)


def _param_context(
    request: HttpRequest, clinic: Clinic, ruleset: str, key: str, **forms: Any
) -> dict[str, Any]:
    eff = selectors.effective_param(clinic.pk, ruleset, key)
    version = eff.latest.version if eff.latest else 0
    initial = {"expected_version": version, "value": catalogue.show(eff.value)}
    return {
        "clinic": clinic,
        "rules": catalogue.rule_set(ruleset),
        "p": eff,
        "choices": _choices(eff.param),
        "history": selectors.history(clinic.pk, ruleset, key),
        "can_override": policies.can(request.user, Act.RULES_OVERRIDE, clinic.pk) and eff.overridable,
        "errors": [m for f in forms.values() for msgs in f.errors.values() for m in msgs],
        "form": forms.get("form") or OverrideForm(initial=initial),
        "revert_form": forms.get("revert_form") or RevertForm(initial=initial),
    }


def _choices(p: Param) -> list[str]:
    if isinstance(p.value, bool):
        return ["true", "false"]
    return [catalogue.show(c) for c in p.choices] if p.choices is not None else []


def _render_param(request: HttpRequest, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    template = "rulesets/_param_panel.html" if getattr(request, "htmx", False) else "rulesets/param.html"
    return render(request, template, ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def param_detail(request: HttpRequest, clinic_id: int, ruleset: str, key: str) -> HttpResponse:
    clinic = get_clinic(request.user, clinic_id, Act.RULES_VIEW)
    p = _param(ruleset, key)
    if request.method != "POST":
        return _render_param(request, _param_context(request, clinic, ruleset, key))
    policies.require(request.user, Act.RULES_OVERRIDE, clinic.pk)
    form = OverrideForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            value = catalogue.parse_value(ruleset, p, form.cleaned_data["value"])
            services.set_override(
                actor_of(request),
                clinic.pk,
                ruleset,
                key,
                value,
                form.cleaned_data["reason"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except ConfigError as exc:
            form.add_error("value", str(exc))
        except services.StaleVersion as exc:
            add_service_errors(form, exc)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        ctx = _param_context(request, clinic, ruleset, key, form=form)
        return _render_param(request, ctx, status=status)
    messages.success(request, f"{ruleset}.{key}: override signed.")
    return redirect("rulesets:param", clinic_id=clinic.pk, ruleset=ruleset, key=key)


@login_required
@require_POST
def revert(request: HttpRequest, clinic_id: int, ruleset: str, key: str) -> HttpResponse:
    clinic = get_clinic(request.user, clinic_id, Act.RULES_VIEW)
    _param(ruleset, key)
    policies.require(request.user, Act.RULES_OVERRIDE, clinic.pk)
    form = RevertForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.revert_override(
                actor_of(request),
                clinic.pk,
                ruleset,
                key,
                form.cleaned_data["reason"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except services.StaleVersion as exc:
            add_service_errors(form, exc)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
    if form.errors:
        ctx = _param_context(request, clinic, ruleset, key, revert_form=form)
        return _render_param(request, ctx, status=status)
    messages.success(request, f"{ruleset}.{key}: back to the cited default.")
    return redirect("rulesets:param", clinic_id=clinic.pk, ruleset=ruleset, key=key)
