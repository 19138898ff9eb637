"""Protocol templates against clinical.md §1.2, §2.1–§2.5."""

import pytest

from kairos.clinical.protocols import PROTOCOL_IDS, ProtocolError, all_protocols, get_protocol


def test_ids_and_lookup():
    assert [p.id for p in all_protocols()] == list(PROTOCOL_IDS)
    with pytest.raises(ProtocolError, match="protocol: 'x' is not one of iv-racemic"):
        get_protocol("x")


@pytest.mark.parametrize(
    ("pid", "phases"),
    [
        ("iv-racemic", [("induction", 6, 2, 7)]),  # §2.1/§2.3: 6 infusions, 2–3/week
        (
            "esketamine-trd",
            [("induction", 8, 2, 7), ("maintenance", 4, 1, 7), ("continuation", 4, 1, 14)],
        ),  # §1.2
        ("esketamine-mdsi", [("induction", 8, 2, 7)]),  # §1.2: 84 mg twice weekly × 4 weeks
        ("im-racemic", [("preparation", 3, 1, 7), ("induction", 6, 2, 7)]),  # §2.5
        ("sublingual-kap", [("preparation", 3, 1, 7), ("induction", 6, 2, 7)]),
    ],
)
def test_phases(pid, phases):
    p = get_protocol(pid)
    assert [(x.name, x.sessions, x.per_period, x.period_days) for x in p.phases] == phases
    assert all(x.source for x in p.phases)
    assert p.sources


def test_label_weeks_of_esketamine_trd():
    p = get_protocol("esketamine-trd")
    assert [x.start_day for x in p.phases] == [0, 28, 56]  # weeks 1, 5, 9
    assert p.dose.start_mg == 56
    assert p.dose.allowed_mg == (56, 84)
    assert p.oral_antidepressant == "optional"  # monotherapy approved Jan 2025 (S12)
    assert any("monotherapy" in n for n in p.notes)
    assert p.phase("induction").nominal_days == 28
    with pytest.raises(ProtocolError, match="phase"):
        p.phase("booster")


def test_doses():
    iv = get_protocol("iv-racemic")
    assert (iv.dose.mg_per_kg, iv.administration_min) == (0.5, 40)  # §2.2
    assert get_protocol("esketamine-mdsi").dose.start_mg == 84
    im = get_protocol("im-racemic").dose
    assert 0.25 <= im.mg_per_kg <= 0.5  # §2.4
    assert get_protocol("esketamine-trd").session_min >= 120  # ≥2 h observation §1.5
    assert get_protocol("iv-racemic").to_dict()["dose"]["mg_per_kg"] == 0.5
