"""Rule pages: the params table, the override form, bad input (400 naming the param and range, never 500),
a reader's POST (403), another clinic (404), unknown rule sets and keys (404), and the template tag."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from kairos.rulesets import services
from kairos.rulesets.models import RuleOverride

pytestmark = pytest.mark.django_db

KEY = "spo2.alarm_below"
WHY = "Clinic protocol review 2026-11: pulse oximeters read 1% low"
RANGE = "allowed: 85 to 98 %"


def _param_url(org, key=KEY, ruleset="safety", clinic=None):
    return reverse("rulesets:param", args=[(clinic or org.north).pk, ruleset, key])


def _post(client, url, value, reason=WHY, **extra):
    return client.post(url, {"value": value, "reason": reason, **extra})


def test_prescriber_signs_an_override_and_the_table_shows_it(org, client_for):
    c = client_for(org.prescriber)
    r = _post(c, _param_url(org), "90", expected_version="0")
    assert r.status_code == 302
    assert RuleOverride.objects.get().value == 90
    page = c.get(reverse("rulesets:ruleset", args=[org.north.pk, "safety"])).content.decode()
    row = page.split(f'data-key="{KEY}"')[1].split("</tr>")[0]
    assert "<strong>90 %</strong>" in row
    assert "clinic override v1" in row
    assert "93 %" in row  # the default beside it
    assert "85 to 98 %" in row
    detail = c.get(_param_url(org)).content.decode()
    assert "by prescriber on" in detail
    assert WHY in detail


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("abc", "'abc' is not a number"),
        ("", "a value is required"),
        ("nan", "nan is not a finite number"),
        ("inf", "inf is not a finite number"),
        ("-Infinity", "-inf is not a finite number"),
        ("1e400", "inf is not a finite number"),
        ("84", "84 is below the allowed range [85, 98] %"),
        ("99", "99 is above the allowed range [85, 98] %"),
        ("90.5", "90.5 is not a whole number"),
        ("9" * 300, None),  # longer than the field: the form refuses it
    ],
)
def test_bad_values_answer_400_naming_the_param_and_range(org, client_for, value, detail):
    r = _post(client_for(org.prescriber), _param_url(org), value)
    assert r.status_code == 400
    body = r.content.decode()
    if detail is not None:
        assert f"safety.spo2.alarm_below: {detail}; {RANGE}" in body.replace("&#x27;", "'")
    assert not RuleOverride.objects.exists()


def test_a_short_reason_answers_400_naming_the_range(org, client_for):
    r = _post(client_for(org.prescriber), _param_url(org), "90", reason="too short")
    assert r.status_code == 400
    assert "reason: at least 15 characters, at most 2000 (got 9)" in r.content.decode()


def test_a_stale_form_answers_409(org, client_for):
    services.set_override(org.prescriber, org.north.pk, "safety", KEY, 88, WHY)
    r = _post(client_for(org.prescriber), _param_url(org), "90", expected_version="0")
    assert r.status_code == 409
    assert "changed since you opened it (now version 1)" in r.content.decode()
    assert RuleOverride.objects.count() == 1


@pytest.mark.parametrize("persona", ["nurse", "therapist", "auditor"])
def test_a_reader_may_look_but_a_post_is_403(org, client_for, persona):
    c = client_for(getattr(org, persona))
    page = c.get(_param_url(org))
    assert page.status_code == 200
    assert 'data-testid="override-form"' not in page.content.decode()
    assert _post(c, _param_url(org), "90").status_code == 403
    assert (
        c.post(reverse("rulesets:revert", args=[org.north.pk, "safety", KEY]), {"reason": WHY}).status_code
        == 403
    )
    assert not RuleOverride.objects.exists()


@pytest.mark.parametrize("persona", ["frontdesk", "admin", "researcher"])
def test_roles_without_rules_view_get_403(org, client_for, persona):
    assert client_for(getattr(org, persona)).get(_param_url(org)).status_code == 403


def test_another_clinic_is_404(org, client_for):
    c = client_for(org.south_prescriber)
    assert c.get(_param_url(org)).status_code == 404
    assert _post(c, _param_url(org), "90").status_code == 404
    assert c.get(reverse("rulesets:clinic", args=[org.north.pk])).status_code == 404
    assert not RuleOverride.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/rules/{clinic}/safety/no.such.key/",
        "/rules/{clinic}/no_such_rules/",
        "/rules/{clinic}/no_such_rules/x/",
        "/rules/99999999999999999999/safety/",
        "/rules/{clinic}/safety/no.such.key/revert/",
    ],
)
def test_unknown_clinic_rule_set_or_key_is_404_for_get_and_post(org, client_for, url):
    c = client_for(org.prescriber)
    url = url.format(clinic=org.north.pk)
    if not url.endswith("revert/"):
        assert c.get(url).status_code == 404
    assert c.post(url, {"value": "90", "reason": WHY}).status_code == 404


def test_revert_through_the_page(org, client_for):
    services.set_override(org.prescriber, org.north.pk, "safety", KEY, 88, WHY)
    c = client_for(org.prescriber)
    r = c.post(
        reverse("rulesets:revert", args=[org.north.pk, "safety", KEY]),
        {"reason": WHY, "expected_version": "1"},
    )
    assert r.status_code == 302
    assert RuleOverride.objects.order_by("-version").first().value is None
    again = c.post(reverse("rulesets:revert", args=[org.north.pk, "safety", KEY]), {"reason": WHY})
    assert again.status_code == 400
    assert "already has its default value" in again.content.decode()


def test_a_choice_param_is_a_select_and_a_bad_choice_is_400(org, client_for):
    c = client_for(org.prescriber)
    url = _param_url(org, ruleset="alerts", key="phq9_item9.urgency")
    assert '<select name="value"' in c.get(url).content.decode()
    r = _post(c, url, "whenever")
    assert r.status_code == 400
    assert "allowed: one of urgent, routine" in r.content.decode()
    assert _post(c, url, "routine").status_code == 302


def test_a_list_param_shows_no_form(org, client_for):
    page = client_for(org.prescriber).get(_param_url(org, key="bp.hold_routes")).content.decode()
    assert 'data-testid="override-form"' not in page
    assert "not changed here" in page
    r = _post(client_for(org.prescriber), _param_url(org, key="bp.hold_routes"), "iv")
    assert r.status_code == 400
    assert "a clinic cannot override this param in the app" in r.content.decode()


def test_htmx_get_answers_the_panel_only(org, client_for):
    r = client_for(org.nurse).get(_param_url(org), headers={"HX-Request": "true"})
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith('<section id="param-panel"')
    assert "<html" not in body


def test_index_redirects_to_the_only_clinic_and_lists_several(org, client_for):
    from kairos.accounts.models import Membership

    c = client_for(org.nurse)
    r = c.get(reverse("rulesets:index"))
    assert r.status_code == 302 and r["Location"] == reverse("rulesets:clinic", args=[org.north.pk])
    Membership.objects.create(user=org.nurse, clinic=org.south, role="nurse")
    c = client_for(org.nurse)
    page = c.get(reverse("rulesets:index")).content.decode()
    assert "North" in page and "South" in page
    assert client_for(org.frontdesk).get(reverse("rulesets:index")).status_code == 403


def test_clinic_page_lists_every_rule_set_with_its_override_count(org, client_for):
    services.set_override(org.prescriber, org.north.pk, "safety", KEY, 90, WHY)
    page = client_for(org.auditor).get(reverse("rulesets:clinic", args=[org.north.pk])).content.decode()
    safety_row = page.split(">safety</a>")[1].split("</tr>")[0]
    assert '<span class="badge badge-warn">1</span>' in safety_row
    assert ">alerts</a>" in page


# --- template tag ---------------------------------------------------------------------------------------
TAG = Template('{% load rulesets %}{% effective_param clinic "safety" "spo2.alarm_below" %}')


def test_tag_shows_the_default_with_its_source(org):
    from django.utils.html import escape

    from kairos.clinical.rules.safety import RULES

    html = TAG.render(Context({"clinic": org.north}))
    source = escape(RULES.param(KEY).source)
    assert html == f'<span class="effective-param" data-rule="safety.spo2.alarm_below">93 % ({source})</span>'


def test_tag_shows_the_clinic_override_with_signer_and_date(org):
    row = services.set_override(org.prescriber, org.north.pk, "safety", KEY, 90, WHY)
    request = RequestFactory().get("/")
    html = TAG.render(Context({"clinic": org.north.pk, "request": request}))
    assert 'data-overridden="v1"' in html
    assert f"; clinic override by prescriber on {row.signed_at.date().isoformat()})</span>" in html
    assert ">90 % (" in html


def test_tag_marks_an_unknown_rule_instead_of_failing_the_page(org):
    html = Template('{% load rulesets %}{% effective_param clinic "safety" "nope" %}').render(
        Context({"clinic": org.north})
    )
    assert "⚠ unknown rule safety.nope" in html


def test_a_true_false_param_is_a_select_of_true_and_false(org, client_for):
    c = client_for(org.prescriber)
    url = _param_url(org, ruleset="measures", key="rapid_24h.enabled")
    page = c.get(url).content.decode()
    assert '<option value="true" selected>true</option><option value="false">false</option>' in page
    assert _post(c, url, "maybe").status_code == 400
    assert _post(c, url, "false").status_code == 302
    assert RuleOverride.objects.get().value is False
    from kairos.rulesets.selectors import effective_rules

    assert effective_rules(org.north.pk, "measures")["rapid_24h.enabled"] is False
