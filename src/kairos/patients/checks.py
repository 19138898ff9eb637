"""TEMPORARY re-export (issue #10): the future-time check moved to :mod:`kairos.core.time`."""

from kairos.core.time import FUTURE_SLACK, check_not_future, is_future

__all__ = ["FUTURE_SLACK", "check_not_future", "is_future"]
