"""TEMPORARY re-export (issue #10): the policy moved to :mod:`kairos.core.policies`. Import from there; the
lead removes this module once the higher apps import the new place."""

from kairos.core.policies import (
    BREAK_GLASS_ROLES,
    CLINICAL,
    POLICY,
    Act,
    any_clinic,
    can,
    clinic_ids_for,
    is_member,
    memberships,
    require,
    roles_for,
)

__all__ = [
    "BREAK_GLASS_ROLES",
    "CLINICAL",
    "POLICY",
    "Act",
    "any_clinic",
    "can",
    "clinic_ids_for",
    "is_member",
    "memberships",
    "require",
    "roles_for",
]
