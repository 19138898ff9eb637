"""Which params a clinic may override and how values are checked: properties over every rule set (no database).

Whatever number is offered, a numeric param either gets a value inside its allowed range (whole where its
default is whole, one of its choices where it has choices) or a refusal that names the param and the range.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.clinical.config import ConfigError, Param, Status
from kairos.rulesets import catalogue

NUMERIC = [
    (rs.name, p)
    for rs in catalogue.rule_sets()
    for p in rs
    if isinstance(p.value, int | float) and not isinstance(p.value, bool)
]
LISTS = [(rs.name, p) for rs in catalogue.rule_sets() for p in rs if isinstance(p.value, tuple)]


@st.composite
def offers(draw):
    """A numeric param and a number offered for it: anything, or something near or inside its range."""
    name, p = draw(st.sampled_from(NUMERIC))
    lo = p.minimum if p.minimum is not None else -1e6
    hi = p.maximum if p.maximum is not None else 1e6
    value = draw(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(10**6), 10**6),
            st.floats(min_value=lo - 1, max_value=hi + 1),
            st.integers(math.floor(lo) - 1, math.ceil(hi) + 1),
            st.sampled_from([lo, hi, *(p.choices or ())]),
        )
    )
    return name, p, value


@given(offers())
def test_a_number_is_accepted_inside_the_range_or_refused_naming_it(offer):
    name, p, value = offer
    try:
        got = catalogue.check_value(name, p, value)
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(f"{name}.{p.key}: ")
        assert message.endswith(f"; allowed: {catalogue.allowed(p)}")
        inside = (
            math.isfinite(value)
            and (p.minimum is None or value >= p.minimum)
            and (p.maximum is None or value <= p.maximum)
            and (not isinstance(p.value, int) or float(value).is_integer())
            and (p.choices is None or value in p.choices)
        )
        assert not inside, f"{value!r} refused for {name}.{p.key}: {message}"
        return
    assert math.isfinite(got)
    assert p.minimum is None or got >= p.minimum
    assert p.maximum is None or got <= p.maximum
    assert type(got) is type(p.value)
    assert p.choices is None or got in p.choices
    # what the form would send back parses to the same value
    assert catalogue.parse_value(name, p, catalogue.show(got)) == got


@pytest.mark.parametrize(("name", "p"), LISTS, ids=[f"{n}.{p.key}" for n, p in LISTS])
def test_lists_have_no_allowed_range_and_are_never_overridden_here(name, p):
    assert not catalogue.overridable(p)
    with pytest.raises(ConfigError, match="a clinic cannot override this param in the app"):
        catalogue.check_value(name, p, list(p.value))


def test_every_numeric_param_without_choices_has_both_bounds():
    """A numeric param a clinic may change needs a bounded range; one without would be refused in the app."""
    unbounded = [
        f"{n}.{p.key}" for n, p in NUMERIC if p.choices is None and (p.minimum is None or p.maximum is None)
    ]
    assert unbounded == []


def _p(safer):
    return Param("x", 93, "%", "test", Status.UNCONFIRMED, "test param", 85, 98, safer=safer)


@pytest.mark.parametrize(
    ("safer", "value", "less_safe"),
    [
        ("higher", 92, True),
        ("higher", 93, False),
        ("higher", 94, False),
        ("lower", 94, True),
        ("lower", 92, False),
        (None, 85, False),
    ],
)
def test_less_safe_follows_the_params_safer_direction(safer, value, less_safe):
    assert catalogue.less_safe(_p(safer), value) is less_safe


def test_allowed_in_words():
    assert catalogue.allowed(_p(None)) == "85 to 98 %"
    alerts = catalogue.param("alerts", "phq9_item9.urgency")
    assert catalogue.allowed(alerts) == "one of urgent, routine"
    assert (
        catalogue.allowed(catalogue.param("dosing", "iv.vial_mg_ml"))
        == "one of 10 mg/mL, 50 mg/mL, 100 mg/mL"
    )
