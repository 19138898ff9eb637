"""Facts defined once in each pure package (they may not import each other) must agree.

``kairos.clinical`` keeps them in its rule set, ``kairos.pharmacology`` in :mod:`molar_mass`; both cite the
reference pharmacology.md unit reminder (§1.1 for the device). The expected figures are the reference's.
"""

from __future__ import annotations

import argparse

import pytest

from kairos.cli import pk as pk_cli
from kairos.clinical import dosing
from kairos.clinical.rules.dosing import RULES
from kairos.pharmacology import effects, molar_mass, occupancy


def test_ketamine_molar_masses_agree_with_the_reference_and_each_other() -> None:
    # reference: ketamine free base 237.73 g/mol; esketamine HCl 274.2 g/mol (to one decimal)
    assert RULES.num("mw.ketamine_base") == molar_mass.MW_KETAMINE_BASE == 237.73
    assert RULES.num("mw.ketamine_hcl") == molar_mass.MW_KETAMINE_HCL
    assert round(molar_mass.MW_KETAMINE_HCL, 1) == 274.2
    assert effects.KETAMINE_MW == molar_mass.MW_KETAMINE_BASE
    assert occupancy.NORKETAMINE_MW == molar_mass.MW_NORKETAMINE == 223.7


def test_hcl_conversion_of_the_pk_cli_matches_clinical_dosing() -> None:
    args = argparse.Namespace(
        model="fanta-otto-2021", drug="racemic", route="iv", dose=100.0, salt="hcl", duration=40.0,
        device_interval=None, weight=70.0, age=40.0, times="0,60",
    )  # fmt: skip
    assert pk_cli.build_request(args)["dose"] == pytest.approx(dosing.hcl_to_base_mg(100.0), rel=1e-12)
    # reference §1.1: a 28 mg esketamine device holds 32.3 mg HCl
    assert dosing.base_to_hcl_mg(28.0) == pytest.approx(32.3, abs=0.05)


def test_nasal_device_size_agrees() -> None:
    assert RULES.num("esketamine.device_mg") == pk_cli.DEVICE_MG == 28
