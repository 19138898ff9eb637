"""Permission-matrix entries for the accounts routes added for issue #9 (collected by
kairos.access.tests.matrix; the original accounts routes are in its FOUNDATION_ENTRIES). None of these
routes returns patient data."""

from __future__ import annotations

from typing import Any

from kairos.access.tests.matrix import EVERYONE, Entry, World

CLINIC_ADMINS = frozenset({"admin"})
ACCESS_REVIEWERS = frozenset({"admin", "auditor"})
# the admin menu: whoever manages a clinic setting (clinic admins; prescribers: consent texts, rule
# overrides), each in their own clinic (the foreign prescribers see their own clinic's menu)
MENU_USERS = frozenset({"admin", "prescriber", "south_prescriber", "far_prescriber"})


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


def _invitee(w: World) -> dict[str, Any]:
    """A north member invited but not yet signed up (no usable password): the target of a resend."""

    def make() -> Any:
        from django.contrib.auth import get_user_model

        from kairos.accounts.models import Membership

        user = get_user_model()(username="matrix_invitee@test.invalid", email="matrix_invitee@test.invalid")
        user.set_unusable_password()
        user.save()
        Membership.objects.create(user=user, clinic=w.org.north, role="nurse")
        return user

    user = w.once("invitee", make)
    return {"clinic_id": w.org.north.pk, "user_id": user.pk}


def _north(w: World) -> dict[str, Any]:
    return {"clinic_id": w.org.north.pk}


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
    # the clinic administers itself (issue #11 §6); foreign users: the clinic or member is not found
    Entry("accounts:admin_menu", phi=False, allowed=MENU_USERS, scope="collection"),
    Entry("accounts:staff_invite", phi=False, allowed=CLINIC_ADMINS, kwargs=_north),
    Entry(
        "accounts:staff_invite",
        phi=False,
        method="POST",
        allowed=CLINIC_ADMINS,
        kwargs=_north,
        data=lambda w: {"name": "Matrix Newcomer", "email": "newcomer@test.invalid", "role": "nurse"},
    ),
    Entry(
        "accounts:staff_role",
        phi=False,
        method="POST",
        allowed=CLINIC_ADMINS,
        kwargs=_colleague,
        data=lambda w: {"role": "therapist"},
    ),
    Entry("accounts:staff_deactivate", phi=False, method="POST", allowed=CLINIC_ADMINS, kwargs=_colleague),
    # the colleague is active: a reactivation answers "already active" (a redirect), changing nothing
    Entry("accounts:staff_reactivate", phi=False, method="POST", allowed=CLINIC_ADMINS, kwargs=_colleague),
    Entry("accounts:staff_resend", phi=False, method="POST", allowed=CLINIC_ADMINS, kwargs=_invitee),
    Entry("accounts:access_review", phi=False, allowed=ACCESS_REVIEWERS, kwargs=_north),
    Entry("accounts:access_review_csv", phi=False, allowed=ACCESS_REVIEWERS, kwargs=_north),
]
