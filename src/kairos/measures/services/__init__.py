"""Writes of measurement-based care, one module per concern (import the module you need; nothing is
re-exported here):

* :mod:`.clinic_config` — a clinic's measurement settings, crisis resources, licences and schedule rules;
* :mod:`.recording` — recording a response with its score, alerts and tasks (clinician entry, FHIR import);
* :mod:`.links` — secure single-use questionnaire links (create, resolve, submit, revoke);
* :mod:`.alert_review` — who is assigned an alert's task, acknowledging an alert;
* :mod:`.plans` — a course's measurement plan and completing non-questionnaire safety checks;
* :mod:`.housekeeping` — the periodic tick (expiry, missed windows, reminders, re-notification).
"""
