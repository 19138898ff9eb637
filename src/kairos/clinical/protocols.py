"""Treatment protocol templates: ids, phases, dose specifications and their sources.

A :class:`Protocol` is resolved from two rule sets - :mod:`kairos.clinical.rules.dosing` (doses) and
:mod:`kairos.clinical.rules.schedule` (phases, spacing) - so a clinic's overrides flow through and every
number keeps its source there. Templates (``§`` = ``shared/reference/clinical.md``):

``iv-racemic``
    Racemic ketamine 0.5 mg/kg IV over 40 min; induction of 6 infusions at 2-3 a week over 2-3 weeks
    (§2.1-§2.3); titration steps, ceiling and maintenance configured by the clinic.
``esketamine-trd``
    Spravato for treatment-resistant depression (§1.2): 56 mg on day 1, then 56 or 84 mg twice weekly in
    weeks 1-4 (84 only after a 56 mg start); weekly in weeks 5-8; weekly or every 2 weeks from week 9.
    With or without an oral antidepressant: monotherapy approved 21 Jan 2025 (S12), so an oral
    antidepressant is not an eligibility requirement. The non-US 28 mg start at age ≥65 (S8) is a
    jurisdiction option, off by default (⚠ for the US label).
``esketamine-mdsi``
    Spravato for depressive symptoms with acute suicidal ideation or behaviour (§1.2): 84 mg twice weekly
    for 4 weeks, 56 mg allowed for tolerability; the course ends at 4 weeks.
``im-racemic`` / ``sublingual-kap``
    Ketamine-assisted psychotherapy structure (§2.5): preparation sessions, dosing sessions (IM
    0.25-0.5 mg/kg, §2.4; sublingual fixed dose, 100-300 mg ⚠) and integration sessions after each dose.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from kairos.clinical.config import RuleSet
from kairos.clinical.rules.dosing import RULES as DOSING_RULES
from kairos.clinical.rules.schedule import RULES as SCHEDULE_RULES


class ProtocolError(ValueError):
    """Unknown protocol id."""


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase of a course: ``sessions`` sessions, ``per_period`` per ``period_days`` days."""

    name: str  # preparation | induction | maintenance | continuation
    kind: str  # dosing | therapy
    sessions: int
    per_period: int
    period_days: int
    start_day: int | None  # nominal first day (0-based) from the course start; None = after previous phase
    source: str

    @property
    def nominal_days(self) -> int:
        """Length of the phase at its nominal frequency."""
        return math.ceil(self.sessions / self.per_period) * self.period_days


@dataclass(frozen=True, slots=True)
class DoseSpec:
    """How a protocol's dose is chosen. Doses are free-base mg."""

    basis: str  # mg_per_kg | fixed_choice | fixed
    mg_per_kg: float | None = None
    step_mg_per_kg: float | None = None
    ceiling_mg_per_kg: float | None = None
    max_dose_mg: float | None = None
    start_mg: float | None = None
    allowed_mg: tuple[float, ...] = ()
    source: str = ""


@dataclass(frozen=True, slots=True)
class Protocol:
    """A treatment protocol template resolved against the clinic's rule sets."""

    id: str
    title: str
    drug: str
    route: str
    indication: str
    phases: tuple[Phase, ...]
    dose: DoseSpec
    administration_min: int  # infusion time (IV), device spacing total (intranasal) or 0
    session_min: int  # booked chair time incl. observation/recovery at the planned dose
    min_interval_days: int
    integration: bool
    oral_antidepressant: str  # "required" | "optional" | "not applicable"
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = field(default=())

    def phase(self, name: str) -> Phase:
        for p in self.phases:
            if p.name == name:
                return p
        raise ProtocolError(f"phase: {name!r} is not one of {', '.join(p.name for p in self.phases)}")

    @property
    def dosing_phases(self) -> tuple[Phase, ...]:
        return tuple(p for p in self.phases if p.kind == "dosing")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ph(rules: RuleSet, prefix: str, name: str, kind: str = "dosing", start_day: int | None = None) -> Phase:
    return Phase(
        name=name,
        kind=kind,
        sessions=int(rules.num(f"{prefix}.sessions")),
        per_period=int(rules.num(f"{prefix}.per_period")),
        period_days=int(rules.num(f"{prefix}.period_days")),
        start_day=start_day,
        source=rules.param(f"{prefix}.sessions").source,
    )


def _weight_dose(d: RuleSet, pid: str) -> DoseSpec:
    return DoseSpec(
        basis="mg_per_kg",
        mg_per_kg=d.num(f"{pid}.mg_per_kg"),
        step_mg_per_kg=d.num(f"{pid}.titration_step_mg_per_kg"),
        ceiling_mg_per_kg=d.num(f"{pid}.ceiling_mg_per_kg"),
        max_dose_mg=d.num(f"{pid}.max_dose_mg"),
        source=d.param(f"{pid}.mg_per_kg").source,
    )


def _esk_dose(d: RuleSet, pid: str) -> DoseSpec:
    allowed = tuple(float(x) for x in d[f"{pid}.allowed_mg"])  # type: ignore[union-attr]
    return DoseSpec(
        basis="fixed_choice",
        start_mg=d.num(f"{pid}.start_mg"),
        allowed_mg=allowed,
        source=d.param(f"{pid}.allowed_mg").source,
    )


def _esk_session_min(d: RuleSet, s: RuleSet, dose_mg: float) -> tuple[int, int]:
    devices = math.ceil(dose_mg / d.num("esketamine.device_mg"))
    admin = int((devices - 1) * d.num("esketamine.device_spacing_min"))
    return admin, admin + int(s.num("esketamine.observation_min"))


def _build(pid: str, d: RuleSet, s: RuleSet) -> Protocol:
    # Long by design: a declarative table of the shipped protocols (one entry per protocol with its cited
    # numbers); data, not logic.
    if pid == "iv-racemic":
        phases = [_ph(s, "iv-racemic.induction", "induction", start_day=0)]
        if s.num("iv-racemic.maintenance.sessions") > 0:
            phases.append(_ph(s, "iv-racemic.maintenance", "maintenance"))
        infusion = int(d.num("iv-racemic.infusion_min"))
        return Protocol(
            id=pid,
            title="IV racemic ketamine (0.5 mg/kg over 40 min)",
            drug="ketamine",
            route="IV",
            indication="treatment-resistant depression (off-label)",
            phases=tuple(phases),
            dose=_weight_dose(d, pid),
            administration_min=infusion,
            session_min=infusion + int(s.num("iv-racemic.recovery_min")),
            min_interval_days=int(s.num("iv-racemic.min_interval_days")),
            integration=bool(s["iv-racemic.integration"]),
            oral_antidepressant="optional",
            notes=(
                "Reassess after the acute series if no meaningful benefit (§2.1, §2.3 ⚠).",
                "Titration steps and ceiling are clinic settings (dosing rules).",
            ),
            sources=("§2.1 S14", "§2.2 S19", "§2.3", "§3 ELEKT-D, Murrough 2013, Shiroma 2014"),
        )
    if pid == "esketamine-trd":
        dose = _esk_dose(d, pid)
        admin, session = _esk_session_min(d, s, dose.start_mg or 56.0)
        ind = _ph(s, "esketamine-trd.induction", "induction", start_day=0)
        mnt = _ph(s, "esketamine-trd.maintenance", "maintenance", start_day=ind.nominal_days)
        cont = _ph(
            s, "esketamine-trd.continuation", "continuation", start_day=ind.nominal_days + mnt.nominal_days
        )
        notes = [
            "Day 1: 56 mg; then 56 or 84 mg; 84 mg only after a 56 mg start (§1.2, S5).",
            "Evaluate benefit at the end of induction (week 4) (§1.2, S5, S7).",
            "From week 9 individualise to the least frequent schedule that keeps response (§1.2).",
            "With or without an oral antidepressant: monotherapy approved 21 Jan 2025 (S12); an oral "
            "antidepressant is not an eligibility requirement.",
        ]
        if d["esketamine.geriatric_28mg_start"]:
            notes.append("Jurisdiction option on: age ≥65 may start at 28 mg (non-US label S8; ⚠ US).")
        return Protocol(
            id=pid,
            title="Esketamine nasal spray, treatment-resistant depression",
            drug="esketamine",
            route="intranasal",
            indication="treatment-resistant depression",
            phases=(ind, mnt, cont) if cont.sessions > 0 else (ind, mnt),
            dose=dose,
            administration_min=admin,
            session_min=session,
            min_interval_days=int(s.num("esketamine.min_interval_days")),
            integration=bool(s["esketamine-trd.integration"]),
            oral_antidepressant="optional",
            notes=tuple(notes),
            sources=("§1.1", "§1.2 S5 S7 S8", "§1.5 S4", "S12"),
        )
    if pid == "esketamine-mdsi":
        dose = _esk_dose(d, pid)
        admin, session = _esk_session_min(d, s, dose.start_mg or 84.0)
        return Protocol(
            id=pid,
            title="Esketamine nasal spray, MDD with acute suicidal ideation or behaviour",
            drug="esketamine",
            route="intranasal",
            indication="depressive symptoms in MDD with acute suicidal ideation or behaviour",
            phases=(_ph(s, "esketamine-mdsi.induction", "induction", start_day=0),),
            dose=dose,
            administration_min=admin,
            session_min=session,
            min_interval_days=int(s.num("esketamine.min_interval_days")),
            integration=bool(s["esketamine-mdsi.integration"]),
            oral_antidepressant="required",
            notes=(
                "84 mg twice weekly for 4 weeks; 56 mg allowed for tolerability (§1.2, S5).",
                "Course ends at 4 weeks: use beyond 4 weeks not systematically evaluated (§1.2).",
                "Not shown to prevent suicide; does not replace hospitalisation (§1.2).",
                "Oral antidepressant: the US MDSI indication is with an oral antidepressant (label; not in "
                "the reference ⚠).",
            ),
            sources=("§1.2 MDSI S5 S7",),
        )
    if pid in ("im-racemic", "sublingual-kap"):
        im = pid == "im-racemic"
        if im:
            dose = _weight_dose(d, pid)
        else:
            dose = DoseSpec(
                basis="fixed",
                start_mg=d.num("sublingual-kap.dose_mg"),
                source=d.param("sublingual-kap.dose_mg").source,
            )
        return Protocol(
            id=pid,
            title="Ketamine-assisted psychotherapy, "
            + ("IM racemic ketamine" if im else "sublingual ketamine"),
            drug="ketamine",
            route="IM" if im else "sublingual",
            indication="ketamine-assisted psychotherapy (off-label)",
            phases=(
                _ph(s, f"{pid}.preparation", "preparation", kind="therapy"),
                _ph(s, f"{pid}.induction", "induction"),
            ),
            dose=dose,
            administration_min=0,
            session_min=int(s.num(f"{pid}.session_min")),
            min_interval_days=int(s.num(f"{pid}.min_interval_days")),
            integration=bool(s[f"{pid}.integration"]),
            oral_antidepressant="optional",
            notes=(
                "Preparation sessions, dosing sessions with vitals before/after, integration after each dose "
                "(§2.5, S20).",
                "IM 0.25–0.5 mg/kg (§2.4 Chilukuri 2014); KAP doses of 0.75–1.5 mg/kg are ⚠ unconfirmed."
                if im
                else "Sublingual lozenge doses 100–300+ mg are ⚠ unconfirmed (§2.4); salt configurable.",
            ),
            sources=("§2.4", "§2.5 S20"),
        )
    raise ProtocolError(f"protocol: {pid!r} is not one of {', '.join(PROTOCOL_IDS)}")


PROTOCOL_IDS: tuple[str, ...] = (
    "iv-racemic",
    "esketamine-trd",
    "esketamine-mdsi",
    "im-racemic",
    "sublingual-kap",
)


def get_protocol(
    protocol_id: str, *, dosing_rules: RuleSet = DOSING_RULES, schedule_rules: RuleSet = SCHEDULE_RULES
) -> Protocol:
    """The protocol ``protocol_id`` resolved against the given rule sets; ``ProtocolError`` if unknown."""
    return _build(protocol_id, dosing_rules, schedule_rules)


def all_protocols(
    *, dosing_rules: RuleSet = DOSING_RULES, schedule_rules: RuleSet = SCHEDULE_RULES
) -> list[Protocol]:
    """Every protocol template, in a stable order."""
    return [get_protocol(p, dosing_rules=dosing_rules, schedule_rules=schedule_rules) for p in PROTOCOL_IDS]
