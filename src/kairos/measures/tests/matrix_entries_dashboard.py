"""Permission-matrix entries for the clinic outcomes dashboard (``/measures/dashboard/``).

The collector (:func:`kairos.access.tests.matrix.collect_entries`) loads ``matrix_entries.py``; that module
extends its ``ENTRIES`` with :data:`ENTRIES` from here. Collection routes: foreign prescribers hold
``outcomes.view`` in their own clinic, so they may open the page but see no north data.
"""

from __future__ import annotations

from kairos.access.tests.matrix import FOREIGN, Entry

OUTCOME_READERS = frozenset({"prescriber", "admin", "auditor", "researcher", *FOREIGN})
_RANGE = "date_from=2025-01-01&date_to=2025-12-31&instrument=madrs"

ENTRIES = [
    Entry("measures_dashboard:index", phi=True, allowed=OUTCOME_READERS, scope="collection", query=_RANGE),
    Entry("measures_dashboard:csv", phi=True, allowed=OUTCOME_READERS, scope="collection", query=_RANGE),
]
