"""Hypothesis properties of scoring: bounds, monotonicity, QIDS group rule, proration and safety items."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.instruments import ScoringRule, all_instruments, get, score

pytestmark = pytest.mark.db_independent

SCORED = [i.id for i in all_instruments() if i.scoring is not ScoringRule.TRIAGE]


@st.composite
def full_answers(draw, iid=None):
    iid = iid or draw(st.sampled_from(SCORED))
    inst = get(iid)
    return iid, {i.id: draw(st.sampled_from(i.values)) for i in inst.scored_items}


@given(full_answers())
def test_total_within_bounds_and_banded(case):
    iid, a = case
    inst = get(iid)
    s = score(iid, a)
    assert inst.min_total <= s.total <= inst.max_total
    assert s.raw_total == s.total or inst.scoring is ScoringRule.MAX_OF_GROUPS
    if inst.bands:
        assert s.severity is not None


@given(full_answers(), st.data())
def test_monotonic_in_each_item_score(case, data):
    iid, a = case
    inst = get(iid)
    item = data.draw(st.sampled_from(inst.scored_items))
    by_points = sorted(item.options, key=lambda o: o.points)
    lo, hi = sorted(
        data.draw(st.lists(st.sampled_from(by_points), min_size=2, max_size=2)), key=lambda o: o.points
    )
    low = score(iid, a | {item.id: lo.value}).total
    high = score(iid, a | {item.id: hi.value}).total
    assert low <= high


@given(full_answers("qids_sr16"))
def test_qids_group_rule_vs_plain_sum(case):
    _, a = case
    s = score("qids_sr16", a)
    plain = sum(a.values())
    expected = (
        max(a[i] for i in "1 2 3 4".split())
        + a["5"]
        + max(a[i] for i in "6 7 8 9".split())
        + a["10"] + a["11"] + a["12"] + a["13"] + a["14"]
        + max(a["15"], a["16"])
    )  # fmt: skip
    assert s.total == expected
    assert s.total <= plain
    assert all(v <= 3 for v in s.domains.values())


@given(full_answers("phq9"), st.data())
def test_proration_never_touches_safety_item(case, data):
    iid, a = case
    blanks = data.draw(st.sets(st.sampled_from([str(n) for n in range(1, 10)]), min_size=1, max_size=2))
    s = score(iid, a | dict.fromkeys(blanks, None))
    if "9" in blanks:
        assert s.total is None
        assert not s.prorated
        assert s.has_flag("safety_item_unanswered")
    else:
        assert s.prorated
        assert s.answers["9"] == a["9"]
        answered = [a[i] for i in a if i not in blanks]
        exact = sum(answered) * 9 / len(answered)
        assert abs(s.total - exact) <= 0.5
        assert 0 <= s.total <= 27


@given(st.lists(st.sampled_from([0, 1, None]), min_size=7, max_size=7))
def test_cssrs_triage_is_a_level(vals):
    a = dict(zip(["1", "2", "3", "4", "5", "6", "6b"], vals, strict=True))
    s = score("cssrs_screener", a)
    assert s.severity in ("none", "low", "moderate", "high", None)  # None: not assessed (issue #12 §5)
    assert s.minimum_severity in ("none", "low", "moderate", "high")
    assert s.severity in (None, s.minimum_severity)
    if a["4"] == 1 or a["5"] == 1 or a["6b"] == 1:
        assert s.severity == "high"  # no blank can raise "high": assessed even with blanks
    if all(v is None for v in a.values()):
        assert s.severity is None


# --- QIDS-SR16 domains scored from their answered items (issue #12 §5) ---------------------------

QIDS_DOMAINS = {  # clinical.md §4.5, written out independently of the catalogue
    "sleep": ("1", "2", "3", "4"),
    "sad_mood": ("5",),
    "appetite_weight": ("6", "7", "8", "9"),
    "concentration": ("10",),
    "self_criticism": ("11",),
    "suicidal_ideation": ("12",),
    "interest": ("13",),
    "energy": ("14",),
    "psychomotor": ("15", "16"),
}


@st.composite
def qids_with_blanks(draw):
    """QIDS answers with any non-safety item possibly blank (item 12 always answered)."""
    a = {}
    for n in range(1, 17):
        blank = n != 12 and draw(st.booleans())
        a[str(n)] = None if blank else draw(st.integers(0, 3))
    return a


def _expected_qids(a):
    """Sum over the 9 domains of the max of the answered items; None when a domain has none answered."""
    total = 0
    for ids in QIDS_DOMAINS.values():
        answered = [a[i] for i in ids if a[i] is not None]
        if not answered:
            return None
        total += max(answered)
    return total


@given(qids_with_blanks())
def test_qids_scored_from_answered_items_within_0_27(a):
    s = score("qids_sr16", a)
    assert s.total == _expected_qids(a)
    if s.total is not None:
        assert 0 <= s.total <= 27
        assert s.missing == ()


@given(qids_with_blanks(), st.data())
def test_qids_monotone_in_each_answered_item(a, data):
    answered = [i for i, v in a.items() if v is not None]
    item = data.draw(st.sampled_from(answered))
    lo, hi = sorted(data.draw(st.lists(st.integers(0, 3), min_size=2, max_size=2)))
    low = score("qids_sr16", a | {item: lo}).total
    high = score("qids_sr16", a | {item: hi}).total
    assert (low is None) == (high is None)  # raising an answered item never changes scorability
    if low is not None:
        assert low <= high


@given(full_answers("qids_sr16"), st.sampled_from([("6", "7"), ("7", "6"), ("8", "9"), ("9", "8")]))
def test_qids_blank_either_or_partner_equals_max_of_answered(case, pair):
    _, a = case
    blank, _kept = pair
    s = score("qids_sr16", a | {blank: None})
    appetite = max(a[i] for i in ("6", "7", "8", "9") if i != blank)
    expected = (
        max(a[i] for i in ("1", "2", "3", "4"))
        + a["5"] + appetite + a["10"] + a["11"] + a["12"] + a["13"] + a["14"]
        + max(a["15"], a["16"])
    )  # fmt: skip
    assert s.total == expected
    assert s.domains["appetite_weight"] == appetite
    assert not s.has_flag("domain_partial")  # the form asks for one of each pair
    assert s.missing == ()
