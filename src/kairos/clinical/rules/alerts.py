"""Safety alerts raised from instrument scores: one cited, clinic-configurable table.

Item alerts fire on the item value alone — a low (or unscored) total never suppresses them. A blank
safety item raises its own alert, because the score cannot rule the risk out. "§" refers to
``shared/reference/clinical.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kairos.clinical.config import Param, RuleSet, Status
from kairos.clinical.instruments import Score

URGENT = "urgent"
ROUTINE = "routine"
_URGENCIES = (URGENT, ROUTINE)


def _urgency(key: str, value: str, source: str, status: Status, what: str) -> Param:
    return Param(key, value, "", source, status, f"Urgency of the {what} alert.", choices=_URGENCIES)


RULES: RuleSet = RuleSet.of(
    "alerts",
    "Safety alerts from instrument answers",
    [
        Param(
            "phq9_item9.min_value",
            1,
            "item score",
            "clinical.md §4.3: item 9 > 0 -> same-day clinician review regardless of total ◐",
            Status.PARTIAL,
            "PHQ-9 item 9 (thoughts of death/self-harm) at or above this raises an alert.",
            1,
            3,
            safer="lower",
        ),
        _urgency(
            "phq9_item9.urgency",
            URGENT,
            "clinical.md §4.3 (same-day review) ◐",
            Status.PARTIAL,
            "PHQ-9 item 9",
        ),
        Param(
            "qids_item12.min_value",
            1,
            "item score",
            "clinical.md §4.5: flag if >=1 (⚠ clinic policy); >=2 = thinks of suicide/death several times a week (⚠ anchor)",
            Status.UNCONFIRMED,
            "QIDS-SR16 item 12 (thoughts of death or suicide) at or above this raises an alert.",
            1,
            3,
            safer="lower",
        ),
        _urgency(
            "qids_item12.urgency",
            URGENT,
            "clinical.md §4.5 ⚠ clinic policy",
            Status.UNCONFIRMED,
            "QIDS item 12",
        ),
        Param(
            "madrs_item10.min_value",
            4,
            "item score",
            "clinical.md §4.6: item 10 >= 4 commonly used as high-risk flag / trial exclusion (⚠ anchor not reproduced)",
            Status.UNCONFIRMED,
            "MADRS item 10 (suicidal thoughts) at or above this raises an alert.",
            1,
            6,
            safer="lower",
        ),
        _urgency("madrs_item10.urgency", URGENT, "clinical.md §4.6 ⚠", Status.UNCONFIRMED, "MADRS item 10"),
        Param(
            "hamd_item3.min_value",
            1,
            "item score",
            "not in clinical.md (HAM-D item 3 'suicide' threshold absent); any non-zero, mirroring §4.3 practice ⚠",
            Status.UNCONFIRMED,
            "HAM-D17 item 3 (suicide) at or above this raises an alert.",
            1,
            4,
            safer="lower",
        ),
        _urgency("hamd_item3.urgency", URGENT, "not in clinical.md ⚠", Status.UNCONFIRMED, "HAM-D item 3"),
        _urgency(
            "cssrs_low.urgency",
            ROUTINE,
            "clinical.md §4.7 triage: Q1-2 yes only -> low ◐ (routine review: Kairos default ⚠)",
            Status.UNCONFIRMED,
            "C-SSRS low-risk",
        ),
        _urgency(
            "cssrs_moderate.urgency",
            URGENT,
            "clinical.md §4.7 triage: Q3 yes, or Q6 lifetime only -> moderate ◐",
            Status.PARTIAL,
            "C-SSRS moderate-risk",
        ),
        _urgency(
            "cssrs_high.urgency",
            URGENT,
            "clinical.md §4.7: high -> immediate safety assessment / do not dose that day (clinic policy ⚠)",
            Status.PARTIAL,
            "C-SSRS high-risk",
        ),
        Param(
            "moaas_loss_of_consciousness.max_value",
            0,
            "MOAA/S level",
            "clinical.md §4.8 / Spravato label S4 §5.1: MOAA/S 0 = loss of consciousness ✅ (alerting: Kairos default)",
            Status.PARTIAL,
            "MOAA/S at or below this raises an alert.",
            0,
            2,
            safer="higher",
        ),
        _urgency("moaas_loss_of_consciousness.urgency", URGENT, "clinical.md §4.8", Status.PARTIAL, "MOAA/S"),
        _urgency(
            "bladder_pain_or_haematuria.urgency",
            URGENT,
            "clinical.md §5.1: new haematuria/pain -> hold dosing pending review and urology referral (⚠ design proposal)",
            Status.UNCONFIRMED,
            "bladder pain/haematuria",
        ),
        _urgency(
            "bladder_any_symptom.urgency",
            ROUTINE,
            "clinical.md §5.1: urinalysis if positive (⚠ design proposal)",
            Status.UNCONFIRMED,
            "any bladder symptom",
        ),
        _urgency(
            "safety_item_unanswered.urgency",
            URGENT,
            "Kairos default: a blank suicide item cannot rule risk out; ask directly (⚠ not in clinical.md)",
            Status.UNCONFIRMED,
            "blank safety item",
        ),
    ],
)


@dataclass(frozen=True, slots=True)
class ItemAlertRule:
    """Alert ``code`` when ``item`` of one of ``instruments`` is >= (or <= when ``at_most``) a param value."""

    code: str
    instruments: tuple[str, ...]
    item: str
    threshold_key: str
    reason: str
    at_most: bool = False


ITEM_ALERTS: tuple[ItemAlertRule, ...] = (
    ItemAlertRule(
        "phq9_item9",
        ("phq9", "phq9_24h"),
        "9",
        "phq9_item9.min_value",
        "PHQ-9 item 9 (thoughts of death/self-harm) endorsed: same-day clinician review and structured suicide "
        "risk assessment (e.g. C-SSRS), regardless of total",
    ),
    ItemAlertRule(
        "qids_item12",
        ("qids_sr16",),
        "12",
        "qids_item12.min_value",
        "QIDS-SR16 item 12 (thoughts of death or suicide) endorsed: clinician review",
    ),
    ItemAlertRule(
        "madrs_item10",
        ("madrs",),
        "10",
        "madrs_item10.min_value",
        "MADRS item 10 (suicidal thoughts) at high-risk level: clinician safety assessment",
    ),
    ItemAlertRule(
        "hamd_item3",
        ("hamd17",),
        "3",
        "hamd_item3.min_value",
        "HAM-D item 3 (suicide) endorsed: clinician safety assessment",
    ),
    ItemAlertRule(
        "moaas_loss_of_consciousness",
        ("moaas",),
        "1",
        "moaas_loss_of_consciousness.max_value",
        "MOAA/S at loss-of-consciousness level: airway, SpO2 and physician review now",
        at_most=True,
    ),
)
_BLADDER_SERIOUS = ("4", "5")  # suprapubic pain, haematuria (§5.1)


@dataclass(frozen=True, slots=True)
class Alert:
    code: str
    urgency: str
    reason: str
    source: str
    item: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "urgency": self.urgency,
            "reason": self.reason,
            "source": self.source,
            "item": self.item,
        }


def _make(
    rules: RuleSet, code: str, key: str, reason: str, item: str | None, source_key: str | None = None
) -> Alert:
    urgency = str(rules[f"{key}.urgency"])
    source = rules.param(source_key or f"{key}.urgency").source
    return Alert(code=code, urgency=urgency, reason=reason, source=source, item=item)


def evaluate_alerts(score: Score, rules: RuleSet = RULES) -> list[Alert]:
    """Alerts for one score. Item alerts ignore the total; blank safety items alert too."""
    alerts: list[Alert] = []
    inst_id = score.instrument_id
    for rule in ITEM_ALERTS:
        if inst_id not in rule.instruments:
            continue
        value = score.answers.get(rule.item)
        if value is None:
            continue
        limit = rules.num(rule.threshold_key)
        hit = value <= limit if rule.at_most else value >= limit
        if hit:
            key = rule.threshold_key.split(".")[0]
            alerts.append(
                _make(
                    rules,
                    rule.code,
                    key,
                    f"{rule.reason} (item {rule.item} = {value})",
                    rule.item,
                    rule.threshold_key,
                )
            )
    if inst_id == "cssrs_screener":
        # A blank item leaves the triage "not assessed" (severity None); what the answered "yes" items
        # establish (minimum_severity) still raises its alert, never dropped for the blanks.
        level = score.severity or score.minimum_severity
        if level in ("low", "moderate", "high"):
            key = f"cssrs_{level}"
            reason = f"C-SSRS screener triage: {level} risk"
            if score.severity is None:
                reason = (
                    f"C-SSRS screener triage not assessed (blank items): at least {level} risk "
                    "from the items answered yes"
                )
            alerts.append(_make(rules, key, key, reason, None))
    if inst_id == "bladder_sx":
        serious = [i for i in _BLADDER_SERIOUS if score.answers.get(i) == 1]
        if serious:
            alerts.append(
                _make(
                    rules,
                    "bladder_pain_or_haematuria",
                    "bladder_pain_or_haematuria",
                    "bladder pain or haematuria reported: hold further dosing pending review; consider urology referral",
                    ",".join(serious),
                )
            )
        elif any(v == 1 for v in score.answers.values()):
            alerts.append(
                _make(
                    rules,
                    "bladder_any_symptom",
                    "bladder_any_symptom",
                    "urinary symptoms reported: urinalysis",
                    None,
                )
            )
    for flag in score.flags:
        if flag.code == "safety_item_unanswered":
            alerts.append(
                _make(rules, "safety_item_unanswered", "safety_item_unanswered", flag.reason, flag.item)
            )
    return alerts
