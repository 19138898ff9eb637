"""One small table of fixed-window request counters for the rate limits (``kairos.web.ratelimit``)."""

from __future__ import annotations

from django.db import models


class RateCounter(models.Model):
    """Requests counted for one key (``link:<address>``, ``login:<address>``, ``api:<token hash>``) in one
    fixed window (``window_start`` = epoch seconds // window length). Incremented only by one atomic
    upsert (``INSERT … ON CONFLICT … DO UPDATE … RETURNING``); rows of past windows are pruned."""

    pk = models.CompositePrimaryKey("key", "window_start")
    key = models.CharField(max_length=100)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["window_start"], name="web_ratecounter_window_idx")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}: {self.count}"
