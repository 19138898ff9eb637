"""Keep secret-bearing URLs out of logs: a questionnaire link's path *is* its credential.

``redact`` rewrites ``/q/<anything>`` to the route pattern ``/q/<token>/``; ``RedactSecretPaths`` is a
logging filter that applies it to a record's message and arguments. settings.LOGGING puts it on the
console handler (everything that reaches the root logger) and on the loggers that write request paths
themselves (``django.server`` access lines, ``django.request`` "Not Found: …", ``django.security.csrf``),
so the record is already clean for any other handler. ``kairos.web.gunicorn_logger`` does the same for
gunicorn's access and error logs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# (pattern, replacement) for every route whose path carries a secret. Add a line for any new one.
SECRET_PATHS: tuple[tuple[re.Pattern[str], str], ...] = ((re.compile(r"/q/[^\s\"']*"), "/q/<token>/"),)


def redact(text: str) -> str:
    for pattern, replacement in SECRET_PATHS:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecretPaths(logging.Filter):
    """Rewrite secret-bearing paths in ``record.msg`` and ``record.args``; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        args = record.args
        if isinstance(args, dict):
            # In place: gunicorn passes a dict subclass whose lookups its access format relies on.
            for key, value in list(args.items()):
                if isinstance(value, str):
                    args[key] = redact(value)
        elif isinstance(args, tuple):
            record.args = tuple(_clean(a) for a in args)
        return True
