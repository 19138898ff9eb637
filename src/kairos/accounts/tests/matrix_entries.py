"""Permission-matrix entries for the accounts routes added for issue #9 (collected by
kairos.access.tests.matrix; the original accounts routes are in its FOUNDATION_ENTRIES). None of these
routes returns patient data."""

from __future__ import annotations

from kairos.access.tests.matrix import EVERYONE, Entry

ENTRIES: list[Entry] = [
    # every signed-in user manages their own devices (the personas have none: a first device needs
    # no password step, so this answers a redirect to setup)
    Entry(
        "accounts:2fa_add",
        method="POST",
        allowed=EVERYONE,
        scope="collection",
        data=lambda w: {"password": "pw-for-tests-1"},
    ),
]
