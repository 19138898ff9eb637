import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kairos.pharmacology.occupancy import DISCLAIMER, LIGANDS, nmda_occupancy, occupancy_s_r
from kairos.pharmacology.types import InputError

c = st.floats(0.0, 1e5, allow_nan=False)


@given(c, c, c, c)
def test_occupancy_in_unit_interval_and_monotone(s, r, ns, extra):
    o1 = nmda_occupancy({"s_ketamine": s, "r_ketamine": r, "s_norketamine": ns})
    o2 = nmda_occupancy({"s_ketamine": s + extra, "r_ketamine": r, "s_norketamine": ns})
    assert 0.0 <= o1 <= 1.0 and 0.0 <= o2 <= 1.0
    assert o2 >= o1


def test_reference_worked_example():
    # reference §2.3: 120 ng/mL S-ketamine ≈ 0.50 µM; fu ≈ 0.56 → ~0.28 µM unbound; Ki 0.30 µM → occ ≈ 0.5
    occ = float(occupancy_s_r(120.0))
    u = 120.0 / 237.73 * 0.56 / 0.30
    assert occ == pytest.approx(u / (1 + u))
    assert 0.4 < occ < 0.55


def test_ki_values_from_reference():
    assert LIGANDS["s_ketamine"].ki_um.value == 0.30
    assert LIGANDS["r_ketamine"].ki_um.value == 1.4
    assert LIGANDS["s_norketamine"].ki_um.value == 1.7
    assert LIGANDS["r_norketamine"].ki_um.value == 13.0
    assert "not a measurement" in DISCLAIMER.lower()


def test_unknown_ligand_and_negative_rejected():
    with pytest.raises(InputError, match="ligand"):
        nmda_occupancy({"hnk": 1.0})
    with pytest.raises(InputError, match="s_ketamine"):
        nmda_occupancy({"s_ketamine": np.array([-1.0])})
