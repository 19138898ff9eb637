"""Questionnaire-link tokens never reach a log line: Django's loggers, the console handler, gunicorn."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import logging
from types import SimpleNamespace

import pytest
from django.test import Client

from kairos.web.log_redaction import RedactSecretPaths, redact

TOKEN = "eyJsIjo0Mn0:1vXyZq:Secret-Signature_0123456789abcdef"


@pytest.fixture
def console():
    """The root console handler configured by settings.LOGGING, writing into a buffer for the test."""
    handlers = [
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretPaths) for f in h.filters)
    ]
    assert len(handlers) == 1, "settings.LOGGING must put RedactSecretPaths on the console handler"
    handler = handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    # Swap the stream directly: setStream() flushes the old one, which an earlier test's captured
    # stderr may have closed already.
    with handler.lock or contextlib.nullcontext():
        old, handler.stream = handler.stream, buffer
    try:
        yield buffer
    finally:
        with handler.lock or contextlib.nullcontext():
            handler.stream = old


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Not Found: /q/{TOKEN}/", "Not Found: /q/<token>/"),
        (f"GET /q/{TOKEN}/?lang=en HTTP/1.1", "GET /q/<token>/ HTTP/1.1"),
        (f'"https://kairos.example.org/q/{TOKEN}/"', '"https://kairos.example.org/q/<token>/"'),
        ("GET /q/<token>/ HTTP/1.1", "GET /q/<token>/ HTTP/1.1"),  # idempotent
        ("GET /patients/12/ HTTP/1.1", "GET /patients/12/ HTTP/1.1"),  # other paths untouched
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


@pytest.mark.django_db
def test_bad_link_request_logs_the_route_not_the_token(caplog, console):
    """A real request to a bad link: django.request's "Not Found" warning carries the route pattern, both
    as captured from the record and as written by the configured console handler."""
    with caplog.at_level(logging.INFO):
        r = Client().get(f"/q/{TOKEN}/")
    assert r.status_code == 404
    records = [rec for rec in caplog.records if rec.name == "django.request"]
    assert [rec.getMessage() for rec in records] == ["Not Found: /q/<token>/"]
    assert TOKEN not in caplog.text
    written = console.getvalue()
    assert "Not Found: /q/<token>/" in written
    assert TOKEN not in written and "Secret-Signature" not in written


@pytest.mark.django_db
def test_bad_csrf_post_to_a_link_logs_the_route_not_the_token(caplog, console):
    with caplog.at_level(logging.WARNING):
        r = Client(enforce_csrf_checks=True).post(f"/q/{TOKEN}/", {"x": "1"})
    assert r.status_code == 403
    assert any(rec.name == "django.security.csrf" for rec in caplog.records)
    assert TOKEN not in caplog.text and TOKEN not in console.getvalue()
    assert "/q/<token>/" in caplog.text


def test_runserver_access_line_is_redacted(caplog, console):
    """django.server writes '"%s" %s %s' % (request line, status, size), as runserver's handler does."""
    with caplog.at_level(logging.INFO, logger="django.server"):
        logging.getLogger("django.server").warning('"%s" %s %s', f"GET /q/{TOKEN}/ HTTP/1.1", "404", "1234")
    assert caplog.records[-1].getMessage() == '"GET /q/<token>/ HTTP/1.1" 404 1234'
    assert '"GET /q/<token>/ HTTP/1.1" 404 1234' in console.getvalue()
    assert TOKEN not in console.getvalue()


def test_any_logger_reaching_the_console_is_redacted(console):
    """A logger without its own filter (here one of ours) still goes through the console handler's."""
    logging.getLogger("kairos.measures.something").warning("sent link %s", f"https://x.example/q/{TOKEN}/")
    assert console.getvalue().strip() == "sent link https://x.example/q/<token>/"


def test_gunicorn_access_and_error_logs_are_redacted(tmp_path):
    from gunicorn.config import Config

    from kairos.web.gunicorn_logger import RedactingLogger

    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    cfg = Config()
    cfg.set("logger_class", "kairos.web.gunicorn_logger.RedactingLogger")
    cfg.set("accesslog", str(access))
    cfg.set("errorlog", str(errors))
    log = RedactingLogger(cfg)
    try:
        resp = SimpleNamespace(status="404 Not Found", sent=1234, headers=[("Content-Type", "text/html")])
        req = SimpleNamespace(headers=[("REFERER", f"https://kairos.example.org/q/{TOKEN}/")])
        environ = {
            "REQUEST_METHOD": "POST",
            "RAW_URI": f"/q/{TOKEN}/",
            "PATH_INFO": f"/q/{TOKEN}/",
            "QUERY_STRING": "",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "192.0.2.1",
            "HTTP_REFERER": f"https://kairos.example.org/q/{TOKEN}/",
            "HTTP_USER_AGENT": "test",
        }
        log.access(resp, req, environ, dt.timedelta(milliseconds=5))
        log.error("Error handling request %s", f"/q/{TOKEN}/")
    finally:
        for h in (*log.access_log.handlers, *log.error_log.handlers):
            h.flush()
    line = access.read_text()
    assert '"POST /q/<token>/ HTTP/1.1" 404 1234 "https://kairos.example.org/q/<token>/"' in line
    assert "Error handling request /q/<token>/" in errors.read_text()
    assert TOKEN not in line and TOKEN not in errors.read_text()


def test_gunicorn_config_uses_the_redacting_logger():
    from kairos.config import gunicorn_conf

    assert gunicorn_conf.logger_class == "kairos.web.gunicorn_logger.RedactingLogger"
