"""TEMPORARY re-export (issue #10): the form-error helper moved to :mod:`kairos.core.forms`."""

from kairos.core.forms import add_service_errors

__all__ = ["add_service_errors"]
