"""The one rule for a free-text "reason" (override, amendment, cancellation, break-glass, reset): issue #10.

A reason is stripped, then refused when shorter than ``min_length`` or longer than ``max_length`` with a
:class:`ValidationError` that names the field and the allowed range. It is never silently truncated.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

#: Default bounds (a software policy, not a clinical number): a reason must say something and must fit
#: the audit row's reason and the models' reason columns.
DEFAULT_MIN_LENGTH = 1
DEFAULT_MAX_LENGTH = 500
#: Bounds of a reason that justifies a safety-relevant act (a hold override, an amendment, break-glass, a
#: two-factor reset, a clinic rule override): long enough to say why, short enough to read back.
SIGNED_MIN_LENGTH = 15
SIGNED_MAX_LENGTH = 2000


def require_reason(
    text: str | None,
    *,
    field: str = "reason",
    min_length: int = DEFAULT_MIN_LENGTH,
    max_length: int = DEFAULT_MAX_LENGTH,
    hint: str = "",
) -> str:
    """Return ``text`` stripped, or raise ``ValidationError({field: ...})`` naming the allowed range.

    ``hint`` ends the message (e.g. "say why access is needed")."""
    if min_length < 0 or max_length < max(min_length, 1):
        raise ValueError(f"bad bounds {min_length}..{max_length}")
    reason = (text or "").strip()
    if not min_length <= len(reason) <= max_length:
        unit = "character" if min_length == 1 else "characters"
        message = f"{field}: at least {min_length} {unit}, at most {max_length} (got {len(reason)})"
        if hint:
            message += f"; {hint}"
        raise ValidationError({field: message})
    return reason
