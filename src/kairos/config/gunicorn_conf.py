"""gunicorn settings for Kairos: ``gunicorn -c python:kairos.config.gunicorn_conf kairos.config.wsgi``.

The logger class rewrites questionnaire-link paths (``/q/<token>/``) in access and error lines.
Bind address and workers come from gunicorn's own options or ``GUNICORN_CMD_ARGS`` as usual
(see docs/DEPLOYMENT.md "Reverse proxy").
"""

logger_class = "kairos.web.gunicorn_logger.RedactingLogger"
accesslog = "-"  # access lines to stdout, redacted
errorlog = "-"
# Behind the reverse proxy only: trust X-Forwarded-* from it (gunicorn's default is 127.0.0.1 already).
forwarded_allow_ips = "127.0.0.1,::1"
