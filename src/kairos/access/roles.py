"""TEMPORARY re-export (issue #10): roles moved to :mod:`kairos.core.roles`."""

from kairos.core.roles import Role

__all__ = ["Role"]
