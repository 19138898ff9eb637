"""Molar masses (g/mol) used for unit conversions: the one definition in :mod:`kairos.pharmacology`.

Source: reference pharmacology.md, "Unit reminder" (header of the file). The same figures, with the same
source, live in the clinical rule set (``mw.ketamine_base``, ``mw.ketamine_hcl`` in
:mod:`kairos.clinical.rules.dosing`); the two pure packages may not import each other, so
``tests/test_cross_package_constants.py`` asserts they agree.
"""

from __future__ import annotations

#: Ketamine (and esketamine) free base, C13H16ClNO (reference unit reminder).
MW_KETAMINE_BASE = 237.73
#: Ketamine / esketamine hydrochloride, C13H17Cl2NO: the reference's 274.2 to two decimals (base + HCl 36.46,
#: IUPAC atomic weights), as in the clinical rule set; 28 mg base = 32.3 mg HCl per Spravato device.
MW_KETAMINE_HCL = 274.19
#: Norketamine, C12H14ClNO (reference unit reminder, computed).
MW_NORKETAMINE = 223.7
#: Hydroxynorketamine, C12H14ClNO2 = 12*12.011 + 14*1.008 + 35.453 + 14.007 + 2*15.999, computed here
#: (not in the reference).
MW_HYDROXYNORKETAMINE = 239.70
