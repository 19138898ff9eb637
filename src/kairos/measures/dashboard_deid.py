"""De-identified per-course rows of the outcomes dashboard (the CSV export).

HIPAA Safe Harbor (45 CFR 164.514(b)(2)) identifiers are removed — names, MRN, contact details, exact dates
(shifted per patient by a keyed offset, so intervals within a patient are kept), ages over 89 (reported as
"90+"); the patient id is replaced by a keyed pseudonym; free-text indication is kept only when at least
``MIN_CELL`` courses share it. These are de-identification policy values, not clinical numbers.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections import defaultdict

from kairos.measures.dashboard import CourseSafety, Dashboard

MIN_CELL = 5  # de-identified CSV: indication text shared by fewer courses is replaced by "other"
DATE_SHIFT_MAX_DAYS = 182


# --- de-identification --------------------------------------------------------------------------------


def _hmac(key: bytes | str, label: str, patient_id: int) -> bytes:
    k = key.encode() if isinstance(key, str) else key
    return hmac.digest(k, f"kairos-deid:{label}:{int(patient_id)}".encode(), "sha256")


def date_shift_days(patient_id: int, key: bytes | str) -> int:
    """The patient's keyed date offset in [−DATE_SHIFT_MAX_DAYS, +DATE_SHIFT_MAX_DAYS] days (HMAC-SHA256 of
    the patient id under the secret key): the same for every date of the patient, unknowable without it."""
    v = int.from_bytes(_hmac(key, "date-shift", patient_id)[:8], "big")
    return v % (2 * DATE_SHIFT_MAX_DAYS + 1) - DATE_SHIFT_MAX_DAYS


def pseudonym(patient_id: int, key: bytes | str) -> str:
    """A keyed, stable subject code (no way back to the patient without the key)."""
    return "S-" + _hmac(key, "subject", patient_id)[:6].hex().upper()


def age_text(date_of_birth: dt.date, on: dt.date) -> str:
    """Age in whole years; ages over 89 are aggregated as "90+" (Safe Harbor)."""
    age = on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    return "90+" if age > 89 else str(age)


CSV_HEADER = (
    "subject",
    "course",
    "clinic",
    "protocol",
    "indication",
    "sex",
    "age_at_start",
    "start_date_shifted",
    "first_dose_shifted",
    "sessions",
    "instrument",
    "baseline",
    "latest",
    "best_reduction_pct",
    "responded",
    "days_to_response",
    "remitted",
    "rapid_response",
    "relapsed",
    "days_response_to_relapse_or_censor",
    "bp_rise_sessions",
    "adverse_events",
)


def deidentified_rows(dash: Dashboard, key: bytes | str) -> list[list[str]]:
    """One de-identified row per course (see the module docstring); header first."""
    clinic_codes: dict[int, str] = {}
    course_codes: dict[int, str] = {}
    indication_counts: dict[str, int] = defaultdict(int)
    for c, _ in dash.outcomes:
        indication_counts[c.indication.strip().lower()] += 1
    rows: list[list[str]] = [list(CSV_HEADER)]
    subjects: dict[int, str] = {}
    shifts: dict[int, dt.timedelta] = {}
    for c, _ in dash.outcomes:
        if c.patient_id not in subjects:
            subjects[c.patient_id] = pseudonym(c.patient_id, key)
            shifts[c.patient_id] = dt.timedelta(days=date_shift_days(c.patient_id, key))
    ordered = sorted(dash.outcomes, key=lambda p: (subjects[p[0].patient_id], p[0].start_date))
    no_safety = CourseSafety()

    def num(v: float | None) -> str:
        return "" if v is None else f"{v:.1f}"

    def num0(v: float | None) -> str:
        return "" if v is None else f"{v:.0f}"

    flag_text = {None: "", True: "1", False: "0"}
    instrument = dash.instrument
    append = rows.append
    for c, o in ordered:
        shift = shifts[c.patient_id]
        clinic = clinic_codes.setdefault(c.clinic_id, f"C{len(clinic_codes) + 1}")
        course = course_codes.setdefault(c.course_id, f"K{len(course_codes) + 1}")
        ind = c.indication.strip().lower()
        indication = (
            ind if ind and indication_counts[ind] >= MIN_CELL and len(ind) <= 60 else ("other" if ind else "")
        )
        safety = dash.course_safety.get(c.course_id, no_safety)
        first = o.first_dose
        ttr = o.time_to_response
        ttrel = o.time_to_relapse
        evaluable = bool(o.baseline and o.assessments)
        append(
            [
                subjects[c.patient_id],
                course,
                clinic,
                c.protocol_id,
                indication,
                c.sex,
                age_text(c.date_of_birth, c.start_date),
                (c.start_date + shift).isoformat(),
                (first.date() + shift).isoformat() if first else "",
                str(len(c.doses)),
                instrument,
                num0(o.baseline.total if o.baseline else None),
                num0(o.assessments[-1].total if o.assessments else None),
                num(o.best_reduction_pct),
                flag_text[bool(o.responded)] if evaluable else "",
                num(ttr.days if ttr and ttr.event else None),
                flag_text[bool(o.remitted)] if evaluable else "",
                flag_text[None if o.rapid_response is None else bool(o.rapid_response)],
                flag_text[bool(o.relapsed)] if o.responded else "",
                num(ttrel.days if ttrel else None),
                str(safety.bp_rise_sessions),
                str(safety.adverse_events),
            ]
        )
    return rows
