"""The clinic admin's measurement-settings page: crisis resources (with who reviewed them and when),
instrument licences, link lifetime and reminder lead; audited; bad input refused naming the field and
its range, nothing saved."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from kairos.audit.models import Action, AuditEvent
from kairos.measures.models import ClinicCrisisResources, ClinicMeasureSettings
from kairos.measures.services import clinic_config

pytestmark = pytest.mark.django_db


def _url(org):
    return reverse("measures:clinic_settings", args=[org.north.pk])


def _form(**extra):
    data = {
        "crisis_text": "North crisis line 555-0100; in an emergency call 911.",
        "licences": ["madrs", "cadss", "cssrs_electronic"],
        "link_valid_hours": "48",
        "reminder_before_hours": "6",
    }
    data.update(extra)
    return data


def _settings_events(org):
    return AuditEvent.objects.filter(action=Action.UPDATE, summary__startswith="measurement settings changed")


def test_page_shows_review_status_licences_and_link_settings(org, client_for):
    html = client_for(org.admin).get(_url(org)).content.decode()
    assert "Needs review" in html  # the shipped default text is a placeholder until reviewed
    for key, label in (("madrs", "MADRS"), ("cadss", "CADSS-6"), ("cssrs_electronic", "C-SSRS")):
        assert f'value="{key}"' in html and label in html
    assert 'name="link_valid_hours"' in html and 'value="72"' in html  # model defaults
    assert 'name="reminder_before_hours"' in html and 'value="24"' in html
    assert "style=" not in html and "<script>" not in html


def test_linked_from_the_clinic_settings_page_for_the_admin_only(org, client_for):
    html = client_for(org.admin).get(f"/clinics/{org.north.pk}/settings/").content.decode()
    assert f'href="{_url(org)}"' in html


def test_admin_saves_settings_audited_and_text_review_recorded(org, client_for):
    before = timezone.now()
    r = client_for(org.admin).post(_url(org), _form())
    assert r.status_code == 302, r.content.decode()[:2000]
    s = ClinicMeasureSettings.objects.get(clinic=org.north)
    assert s.licences == ["cadss", "cssrs_electronic", "madrs"]
    assert (s.link_valid_hours, s.reminder_before_hours) == (48, 6)
    c = ClinicCrisisResources.objects.get(clinic=org.north)
    assert c.text.startswith("North crisis line") and not c.needs_review
    assert c.reviewed_by == org.admin and c.reviewed_at >= before
    (ev,) = _settings_events(org)
    assert ev.actor == org.admin and ev.summary.endswith("crisis resources reviewed")
    assert ev.old["link_valid_hours"] == 72 and ev.new["link_valid_hours"] == 48
    assert ev.old["licences"] == [] and ev.new["licences"] == s.licences
    assert ev.old["crisis_reviewed_by"] is None and ev.new["crisis_reviewed_by"] == org.admin.pk
    html = client_for(org.admin).get(_url(org)).content.decode()
    assert "Reviewed" in html and "Needs review" not in html and org.admin.get_username() in html
    # the declared licences take effect: MADRS may now be entered without the licence flag
    assert "madrs" in clinic_config.clinic_options(org.north.pk, self_report=False).licences


def test_saving_the_same_text_is_a_review_only_when_ticked(org, client_for):
    c = client_for(org.admin)
    text = clinic_config.crisis_resources(org.north.pk).text
    assert c.post(_url(org), _form(crisis_text=text)).status_code == 302
    assert clinic_config.crisis_resources(org.north.pk).needs_review  # licences saved, text not reviewed
    assert c.post(_url(org), _form(crisis_text=text, mark_reviewed="on")).status_code == 302
    crisis = clinic_config.crisis_resources(org.north.pk)
    assert not crisis.needs_review and crisis.reviewed_by == org.admin and crisis.text == text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"link_valid_hours": "0"}, "link_valid_hours: whole hours in the allowed range [1, 336]"),
        ({"link_valid_hours": "337"}, "link_valid_hours: whole hours in the allowed range [1, 336]"),
        ({"link_valid_hours": "two"}, "link_valid_hours: whole hours in the allowed range [1, 336]"),
        ({"reminder_before_hours": "-1"}, "reminder_before_hours: whole hours in the allowed range [0, 335]"),
        (
            {"link_valid_hours": "24", "reminder_before_hours": "24"},
            "reminder_before_hours: 24 is outside the allowed range [0, 23] hours",
        ),
        ({"licences": ["madrs", "bogus"]}, "licences: bogus is not a known licence"),
        ({"crisis_text": "   "}, "crisis_text: required"),
    ],
)
def test_bad_input_refused_naming_the_field_nothing_saved(org, client_for, extra, message):
    r = client_for(org.admin).post(_url(org), _form(**extra))
    assert r.status_code == 400
    assert message in r.content.decode()
    s = clinic_config.clinic_settings(org.north.pk)
    assert (s.licences, s.link_valid_hours, s.reminder_before_hours) == ([], 72, 24)
    assert clinic_config.crisis_resources(org.north.pk).needs_review
    assert not _settings_events(org).exists()


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"link_valid_hours": 400}, "link_valid_hours", "[1, 336]"),
        ({"reminder_before_hours": 72}, "reminder_before_hours", "[0, 71]"),  # default lifetime 72 h
        ({"link_valid_hours": 12}, "link_valid_hours", "reminder lead (24 h)"),  # would strand the reminder
        ({"licences": ["nope"]}, "licences", "unknown nope"),
        ({"crisis_text": " "}, "crisis_text", "cannot be empty"),
    ],
)
def test_service_validates_before_writing(org, kwargs, field, fragment):
    with pytest.raises(ValidationError) as exc:
        clinic_config.update_clinic_settings(org.admin, org.north.pk, **kwargs)
    (msg,) = exc.value.message_dict[field]
    assert msg.startswith(f"{field}:") and fragment in msg
    s = clinic_config.clinic_settings(org.north.pk)
    assert (s.link_valid_hours, s.reminder_before_hours) == (72, 24)
    assert not _settings_events(org).exists()


def test_only_the_clinic_admin_may_change_them(org, client_for):
    for user in (org.prescriber, org.nurse, org.auditor):
        with pytest.raises(PermissionDenied):
            clinic_config.update_clinic_settings(user, org.north.pk, link_valid_hours=48)
        assert client_for(user).post(_url(org), _form()).status_code == 403
    with pytest.raises(Http404):
        clinic_config.update_clinic_settings(org.far_prescriber, org.north.pk, link_valid_hours=48)
    assert client_for(org.admin).get(reverse("measures:clinic_settings", args=[999999])).status_code == 404
    assert clinic_config.clinic_settings(org.north.pk).link_valid_hours == 72
