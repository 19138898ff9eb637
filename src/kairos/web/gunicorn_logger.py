"""gunicorn logger class that keeps questionnaire-link tokens out of access and error logs.

Used by ``src/kairos/config/gunicorn_conf.py`` (``gunicorn -c python:kairos.config.gunicorn_conf
kairos.config.wsgi``). gunicorn's access line has the request line (``%(r)s``), the path (``%(U)s``)
and the referer (``%(f)s``, which carries the link on the form's own POST); every value goes through
``kairos.web.log_redaction.redact``, as does every error-log message ("Error handling request /q/…").
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from kairos.web.log_redaction import RedactSecretPaths


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn has no type hints
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactSecretPaths) for f in log.filters):
                log.addFilter(RedactSecretPaths())
