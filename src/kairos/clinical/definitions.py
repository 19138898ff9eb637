"""Named clinical definitions: each term defined once, named for what it is (issue #12 §5).

The REMS Patient Monitoring Form, the session flowsheet and the outcomes dashboard count events that
sound alike but are defined differently. Each definition here is a pure function with the cited
:class:`~kairos.clinical.config.Param` behind it (the params stay in their rule-set modules, so a clinic
override reaches every caller) and a label that says which definition a figure uses:

==============================  =========================================================  ==========================
name                            definition (defaults)                                      used by
==============================  =========================================================  ==========================
:func:`rems_sedation`           any post-dose MOAA/S < 5, or a recorded sedation event     REMS form "Sedation?"
:func:`significant_sedation`    any post-dose MOAA/S ≤ 3, or a recorded sedation event     dashboard
:func:`loss_of_consciousness`   any post-dose MOAA/S ≤ 0 (the label's definition)          dashboard
:func:`rems_dissociation`       any post-dose CADSS-6 total > 0, or a dissociation event   REMS form "Dissociation?"
:func:`dissociation_above_      any post-dose CADSS-6 total above the pre-dose total, or   dashboard
predose`                        a dissociation event
:func:`significant_bp_rise`     SBP ≥ 40 and/or DBP ≥ 25 mmHg above the pre-dose reading   monitoring, discharge
:func:`bp_rise_within_window`   a significant BP rise on a reading within 90 min of the    dashboard
                                start of dosing
==============================  =========================================================  ==========================

Readings are passed as iterables of optional values (``None`` = not recorded, ignored), so a caller may
pass every reading or, equivalently, the extreme one (the minimum MOAA/S, the maximum CADSS-6 total,
the maximum SBP/DBP of the window): each definition is "any reading beyond the cut-off".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.rems import RULES as REMS_RULES
from kairos.clinical.rules.safety import RULES as SAFETY_RULES
from kairos.clinical.rules.safety_reporting import RULES as REPORTING_RULES

Value = int | float | None


def _present(values: Iterable[Value]) -> list[float]:
    out: list[float] = []
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise TypeError(f"expected a number or None, got {v!r}")
        out.append(float(v))
    return out


@dataclass(frozen=True, slots=True)
class Definition:
    """A named definition: its key, the label shown beside any figure that uses it, and its params."""

    key: str
    label: str
    text: str
    params: tuple[str, ...]  # "<rule set>.<param key>"
    function: str  # dotted name of the pure function


# --- sedation -------------------------------------------------------------------------------------------


def rems_sedation(post_moaas: Iterable[Value], *, sedation_event: bool, rules: RuleSet = REMS_RULES) -> bool:
    """REMS form "sedation occurred": any post-dose MOAA/S below ``rems.pmf.sedation_moaas_below`` (5:
    anything short of fully awake) or a recorded sedation adverse event."""
    below = rules.num("pmf.sedation_moaas_below")
    return bool(sedation_event) or any(m < below for m in _present(post_moaas))


def significant_sedation(
    post_moaas: Iterable[Value], *, sedation_event: bool, rules: RuleSet = REPORTING_RULES
) -> bool:
    """Dashboard "significant sedation": any post-dose MOAA/S at or below
    ``safety_reporting.sedation.moaas_max`` (3: responds only after name called loudly) or a recorded
    sedation adverse event."""
    at_most = rules.num("sedation.moaas_max")
    return bool(sedation_event) or any(m <= at_most for m in _present(post_moaas))


def loss_of_consciousness(post_moaas: Iterable[Value], *, rules: RuleSet = REPORTING_RULES) -> bool:
    """Loss of consciousness: any post-dose MOAA/S at or below ``loss_of_consciousness.moaas_max`` (0)."""
    at_most = rules.num("loss_of_consciousness.moaas_max")
    return any(m <= at_most for m in _present(post_moaas))


# --- dissociation ---------------------------------------------------------------------------------------


def rems_dissociation(
    post_cadss: Iterable[Value], *, dissociation_event: bool, rules: RuleSet = REMS_RULES
) -> bool:
    """REMS form "dissociation occurred": any post-dose CADSS-6 total above
    ``rems.pmf.dissociation_cadss_above`` (0) or a recorded dissociation adverse event."""
    above = rules.num("pmf.dissociation_cadss_above")
    return bool(dissociation_event) or any(c > above for c in _present(post_cadss))


def dissociation_above_predose(
    pre_cadss: Value, post_cadss: Iterable[Value], *, dissociation_event: bool
) -> bool:
    """Dashboard "dissociation above pre-dose": any post-dose CADSS-6 total above the pre-dose total (0 when
    none was recorded) or a recorded dissociation adverse event. The trials report change from pre-dose
    (clinical.md §4.8); no numeric cut-off is involved."""
    (pre,) = _present([pre_cadss]) or [0.0]
    return bool(dissociation_event) or any(c > pre for c in _present(post_cadss))


# --- blood-pressure rise --------------------------------------------------------------------------------


def significant_bp_rise(
    pre_sbp: Value,
    pre_dbp: Value,
    post_sbp: Iterable[Value],
    post_dbp: Iterable[Value],
    *,
    rules: RuleSet = SAFETY_RULES,
) -> bool:
    """Significant BP rise: a post-dose systolic at least ``safety.bp.rise_sbp`` (40) and/or a diastolic at
    least ``safety.bp.rise_dbp`` (25) mmHg above the pre-dose reading (label §5.6, ISI S6). Without a
    pre-dose value the rise cannot be assessed: ``False``."""
    rise_s, rise_d = rules.num("bp.rise_sbp"), rules.num("bp.rise_dbp")
    pre_s, pre_d = _present([pre_sbp]), _present([pre_dbp])
    by_sbp = bool(pre_s) and any(s - pre_s[0] >= rise_s for s in _present(post_sbp))
    by_dbp = bool(pre_d) and any(d - pre_d[0] >= rise_d for d in _present(post_dbp))
    return by_sbp or by_dbp


def bp_rise_within_window(
    pre_sbp: Value,
    pre_dbp: Value,
    window: Iterable[tuple[float, Value, Value]],
    *,
    safety_rules: RuleSet = SAFETY_RULES,
    rules: RuleSet = REPORTING_RULES,
) -> bool:
    """Dashboard "BP rise": :func:`significant_bp_rise` on a reading taken within
    ``safety_reporting.bp_rise.window_min`` (90) minutes of the start of dosing (label: "in the first
    1.5 h"). ``window`` holds (minutes from the start of dosing, SBP, DBP) of post-dose readings; readings
    before the start or after the window are ignored."""
    limit = rules.num("bp_rise.window_min")
    inside = [(s, d) for minutes, s, d in window if 0 <= minutes <= limit]
    return significant_bp_rise(
        pre_sbp, pre_dbp, (s for s, _ in inside), (d for _, d in inside), rules=safety_rules
    )


# --- labels ---------------------------------------------------------------------------------------------


def _n(rules: RuleSet, key: str) -> str:
    return f"{rules.num(key):g}"


def definitions(
    *,
    rems: RuleSet = REMS_RULES,
    safety: RuleSet = SAFETY_RULES,
    reporting: RuleSet = REPORTING_RULES,
) -> dict[str, Definition]:
    """Every named definition with its label, computed from the (possibly overridden) rule sets."""
    rise = f"SBP ≥{_n(safety, 'bp.rise_sbp')} and/or DBP ≥{_n(safety, 'bp.rise_dbp')} mmHg above pre-dose"
    items = [
        Definition(
            "rems_sedation",
            f"Sedation (REMS form: MOAA/S < {_n(rems, 'pmf.sedation_moaas_below')})",
            f"any post-dose MOAA/S below {_n(rems, 'pmf.sedation_moaas_below')}, or a recorded sedation "
            "event (⚠ clinic reading of the form's 'sedation?')",
            ("rems.pmf.sedation_moaas_below",),
            "kairos.clinical.definitions.rems_sedation",
        ),
        Definition(
            "significant_sedation",
            f"Significant sedation (MOAA/S ≤ {_n(reporting, 'sedation.moaas_max')})",
            f"any post-dose MOAA/S at or below {_n(reporting, 'sedation.moaas_max')}, or a recorded "
            "sedation event (⚠ clinic definition; the label counts trial-reported sedation)",
            ("safety_reporting.sedation.moaas_max",),
            "kairos.clinical.definitions.significant_sedation",
        ),
        Definition(
            "loss_of_consciousness",
            f"Loss of consciousness (MOAA/S {_n(reporting, 'loss_of_consciousness.moaas_max')})",
            f"any post-dose MOAA/S of {_n(reporting, 'loss_of_consciousness.moaas_max')} (label §5.1)",
            ("safety_reporting.loss_of_consciousness.moaas_max",),
            "kairos.clinical.definitions.loss_of_consciousness",
        ),
        Definition(
            "rems_dissociation",
            f"Dissociation (REMS form: CADSS-6 > {_n(rems, 'pmf.dissociation_cadss_above')})",
            f"any post-dose CADSS-6 total above {_n(rems, 'pmf.dissociation_cadss_above')}, or a recorded "
            "dissociation event (⚠ clinic reading of the form's 'dissociation?')",
            ("rems.pmf.dissociation_cadss_above",),
            "kairos.clinical.definitions.rems_dissociation",
        ),
        Definition(
            "dissociation_above_predose",
            "Dissociation above pre-dose (CADSS-6)",
            "any post-dose CADSS-6 total above the pre-dose total, or a recorded dissociation event "
            "(⚠ clinic definition; the label used the full CADSS)",
            (),
            "kairos.clinical.definitions.dissociation_above_predose",
        ),
        Definition(
            "significant_bp_rise",
            f"Significant BP rise ({rise})",
            f"a post-dose reading with {rise} (label §5.6, S6)",
            ("safety.bp.rise_sbp", "safety.bp.rise_dbp"),
            "kairos.clinical.definitions.significant_bp_rise",
        ),
        Definition(
            "bp_rise_within_window",
            f"BP rise within {_n(reporting, 'bp_rise.window_min')} min of dosing ({rise})",
            f"a reading within {_n(reporting, 'bp_rise.window_min')} min of the start of dosing with {rise} "
            "(label: first 1.5 h, S6)",
            ("safety.bp.rise_sbp", "safety.bp.rise_dbp", "safety_reporting.bp_rise.window_min"),
            "kairos.clinical.definitions.bp_rise_within_window",
        ),
    ]
    return {d.key: d for d in items}
