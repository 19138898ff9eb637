"""One way to make a model's rows append-only, with one exception (issue #10).

A row that subclasses :class:`AppendOnlyModel` is written once: ``save()`` on a stored row and
``delete()`` raise :class:`AppendOnlyError`. Database triggers (audit) are a second line of defence where
they exist; bulk ``QuerySet.update()``/``delete()`` bypass ``save``/``delete`` and must not be used on
these tables.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class AppendOnlyError(RuntimeError):
    """Code tried to change or delete a row that is append-only (or signed)."""


class AppendOnlyModel(models.Model):
    """Abstract base: insert once, never update, never delete."""

    #: What the error messages call one row (default: the model's verbose name).
    append_only_noun: str = ""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(
                f"{self._append_only_name()} {self.pk} is append-only: add a new row instead"
            )
        if self.pk is not None:
            # A new row with an explicit primary key is inserted, never allowed to overwrite a stored one.
            kwargs.setdefault("force_insert", True)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError(f"{self._append_only_name()} {self.pk} is append-only: it cannot be deleted")

    def _append_only_name(self) -> str:
        return self.append_only_noun or str(self._meta.verbose_name)
