"""All writes of the dosing day, one module per section. Each service checks the policy, validates through the
pure clinical rules, writes, and records the audit event in the same transaction.

Status transitions use optimistic locking: a caller passes the ``version`` it saw; if someone else moved the
session meanwhile the write is refused with a message (nothing is lost: the page reloads with their change).
Flowsheet readings need no lock: they are append-only rows.

* :mod:`.checkin` — create/cancel, check-in and the pre-dose gate
* :mod:`.orders` — dose order, verification and administration
* :mod:`.flowsheet` — readings, adverse events, emergency actions
* :mod:`.discharge` — discharge, note signature and amendments, integration notes
* :mod:`.rems` — REMS Patient Monitoring Form
* :mod:`.start` — start the session of a booked dosing appointment
* :mod:`.common` — shared mechanics (field errors, reason rule, charted times, locking)

The names below are re-exported so that ``services.check_in(...)`` keeps working for callers.
"""

from kairos.dosing.services.checkin import (
    cancel_session,
    check_in,
    create_session,
    decide_cautions,
    override_hold,
    recheck,
)
from kairos.dosing.services.discharge import (
    amend_note,
    discharge,
    mark_ready,
    sign_note,
    write_integration_note,
)
from kairos.dosing.services.flowsheet import add_reading, record_adverse_event, record_emergency_action
from kairos.dosing.services.orders import (
    cosign_dose,
    order_dose,
    record_device,
    start_dosing,
    stop_infusion,
    verify_dose,
)
from kairos.dosing.services.rems import sign_rems_form, submit_rems_form
from kairos.dosing.services.start import StartRefused, start_session_from_appointment

__all__ = [
    "add_reading",
    "amend_note",
    "cancel_session",
    "check_in",
    "cosign_dose",
    "create_session",
    "decide_cautions",
    "discharge",
    "mark_ready",
    "order_dose",
    "override_hold",
    "recheck",
    "record_adverse_event",
    "record_device",
    "record_emergency_action",
    "sign_note",
    "sign_rems_form",
    "start_dosing",
    "start_session_from_appointment",
    "StartRefused",
    "stop_infusion",
    "submit_rems_form",
    "verify_dose",
    "write_integration_note",
]
