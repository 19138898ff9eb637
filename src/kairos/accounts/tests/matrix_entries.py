"""Permission-matrix entries for the accounts routes added for issue #9 (collected by
kairos.access.tests.matrix; the original accounts routes are in its FOUNDATION_ENTRIES). None of these
routes returns patient data."""

from __future__ import annotations

from typing import Any

from kairos.access.tests.matrix import EVERYONE, Entry, World

CLINIC_ADMINS = frozenset({"admin"})


def _colleague(w: World) -> dict[str, Any]:
    """A north colleague (not one of the personas, who must stay device-free) with an authenticator
    app: the target of a lost-device reset."""

    def make() -> Any:
        from django.contrib.auth import get_user_model
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from kairos.accounts.models import Membership

        user = get_user_model().objects.create_user("matrix_colleague", "mc@test.invalid", "pw-for-tests-1")
        Membership.objects.create(user=user, clinic=w.org.north, role="nurse")
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        return user

    user = w.once("colleague", make)
    return {"clinic_id": w.org.north.pk, "user_id": user.pk}


ENTRIES: list[Entry] = [
    # every signed-in user manages their own devices (the personas have none: a first device needs
    # no password step, so this answers a redirect to setup)
    Entry(
        "accounts:2fa_add",
        phi=False,
        method="POST",
        allowed=EVERYONE,
        scope="collection",
        data=lambda w: {"password": "pw-for-tests-1"},
    ),
    # new recovery codes: the personas have no authenticator, so this answers a redirect to settings
    Entry(
        "accounts:2fa_recovery_codes",
        phi=False,
        method="POST",
        allowed=EVERYONE,
        scope="collection",
        data=lambda w: {"password": "pw-for-tests-1"},
    ),
    # staff of the admin's clinics; a lost-device reset (foreign admins: the user is not found)
    Entry("accounts:staff", phi=False, allowed=CLINIC_ADMINS, scope="collection"),
    Entry(
        "accounts:staff_reset_2fa",
        phi=False,
        method="POST",
        allowed=CLINIC_ADMINS,
        kwargs=_colleague,
        data=lambda w: {"reason": "lost phone, confirmed in person at the front desk"},
    ),
]
