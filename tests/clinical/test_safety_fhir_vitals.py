"""FHIR vital-sign parsing edge cases (LOINC codes from clinical.md §7.1)."""

import datetime as dt

from kairos.clinical.safety.fhir_vitals import vitals_from_bundle

LOINC = "http://loinc.org"


def obs(code, when="2026-03-02T09:00:00Z", **extra):
    res = {"resourceType": "Observation", "code": {"coding": [{"system": LOINC, "code": code}]}, **extra}
    if when is not None:
        res["effectiveDateTime"] = when
    return {"resource": res}


def comp(code, value):
    return {"code": {"coding": [{"system": LOINC, "code": code}]}, "valueQuantity": {"value": value}}


def test_panel_spo2_and_skips():
    bundle = {
        "entry": [
            {"resource": {"resourceType": "Patient"}},
            obs("85354-9", component=[comp("8480-6", 150), comp("8462-4", 95), comp("8867-4", 70)]),
            obs("85354-9", when=None, component=[comp("8480-6", 150), comp("8462-4", 95)]),
            obs("85354-9", when="2026-03-02T09:00:00", component=[comp("8480-6", 150), comp("8462-4", 95)]),
            obs("85354-9", component=[comp("8480-6", "high"), comp("8462-4", 95)]),
            obs("59408-5", valueQuantity={"value": 94}),
            obs("59408-5", valueQuantity={}),
            obs("8302-2", valueQuantity={"value": 170}),
        ]
    }
    out = list(vitals_from_bundle(bundle))
    assert [(v.sbp, v.dbp, v.spo2) for v in out] == [(150.0, 95.0, None), (None, None, 94.0)]
    assert out[0].at == dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
