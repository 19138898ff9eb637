"""kairos.core (issue #10): one append-only base with one exception for every append-only model, one
reason rule that refuses instead of truncating."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from kairos.core.append_only import AppendOnlyError, AppendOnlyModel
from kairos.core.reasons import require_reason

APPEND_ONLY = {
    "audit.AuditEvent",
    "dosing.Reading",
    "dosing.EmergencyAction",
    "dosing.CautionDecision",
    "intake.EligibilityDecision",
    "intake.ConsentDocument",
    "measures.QuestionnaireResponse",
    "measures.Score",
    "rulesets.RuleOverride",
}


def test_every_append_only_model_uses_the_one_base():
    found = {m._meta.label for m in apps.get_models() if issubclass(m, AppendOnlyModel)}
    assert found == APPEND_ONLY


@pytest.mark.parametrize("label", sorted(APPEND_ONLY))
def test_update_and_delete_raise_append_only_error(label):
    # Deliberate change (#10): dosing raised RuntimeError, intake SignedRecordError and measures
    # ImmutableRecordError (ValidationError subclasses); every one now raises AppendOnlyError. The refusal
    # happens before any query, so an unsaved instance marked as stored is enough.
    row = apps.get_model(label)(pk=1)
    row._state.adding = False
    with pytest.raises(AppendOnlyError, match="append-only"):
        row.save()
    with pytest.raises(AppendOnlyError, match="append-only"):
        row.delete()


def test_append_only_error_is_not_a_validation_error():
    assert not issubclass(AppendOnlyError, ValidationError)


@pytest.mark.django_db
def test_stored_audit_event_refuses_update_and_delete():
    from kairos.audit.models import Action, AuditEvent
    from kairos.audit.services import record

    record(Action.CREATE, actor=None, summary="x")
    event = AuditEvent.objects.get()
    event.summary = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_require_reason_strips_and_returns():
    assert require_reason("  because  ") == "because"


@pytest.mark.parametrize("text", ["", "   ", None])
def test_require_reason_refuses_empty(text):
    with pytest.raises(ValidationError) as exc:
        require_reason(text, field="amend_reason")
    assert "amend_reason" in exc.value.message_dict
    assert "at least 1 character, at most 500" in exc.value.message_dict["amend_reason"][0]


def test_require_reason_refuses_too_long_instead_of_truncating():
    # Deliberate change (#10): courses and intake cut a long reason at 500 characters silently.
    assert require_reason("x" * 500) == "x" * 500
    with pytest.raises(ValidationError) as exc:
        require_reason("x" * 501)
    assert exc.value.message_dict["reason"] == ["reason: at least 1 character, at most 500 (got 501)"]


def test_require_reason_custom_bounds_and_hint():
    with pytest.raises(ValidationError, match="at least 15 characters, at most 2000 .got 4.; say why"):
        require_reason("typo", min_length=15, max_length=2000, hint="say why")
