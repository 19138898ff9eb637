"""Environment helpers fail loudly; production mode refuses unsafe settings; check --deploy is clean."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kairos.config import env

REPO = Path(__file__).resolve().parents[4]


# --- typed helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "yes please"])
def test_env_bool_rejects_unknown_words(monkeypatch, raw):
    monkeypatch.setenv("KAIROS_X", raw)
    with pytest.raises(ImproperlyConfigured, match=r"KAIROS_X must be one of 1/0/true/false"):
        env.env_bool("KAIROS_X", False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), (" on ", True), ("0", False), ("off", False), ("", False)],
)
def test_env_bool_accepts(monkeypatch, raw, expected):
    monkeypatch.setenv("KAIROS_X", raw)
    assert env.env_bool("KAIROS_X", not expected) is expected


def test_env_bool_default(monkeypatch):
    monkeypatch.delenv("KAIROS_X", raising=False)
    assert env.env_bool("KAIROS_X", True) is True


@pytest.mark.parametrize("raw", ["ten", "1.5", "", "0x10"])
def test_env_int_rejects_non_integers(monkeypatch, raw):
    monkeypatch.setenv("KAIROS_N", raw)
    with pytest.raises(ImproperlyConfigured, match="KAIROS_N must be a whole number"):
        env.env_int("KAIROS_N", 3)


@pytest.mark.parametrize("raw", ["0", "101", "-5"])
def test_env_int_rejects_out_of_range_naming_the_range(monkeypatch, raw):
    monkeypatch.setenv("KAIROS_N", raw)
    with pytest.raises(ImproperlyConfigured, match=r"KAIROS_N must be between 1 and 100"):
        env.env_int("KAIROS_N", 3, minimum=1, maximum=100)


def test_env_int_in_range(monkeypatch):
    monkeypatch.setenv("KAIROS_N", "42")
    assert env.env_int("KAIROS_N", 3, minimum=1, maximum=100) == 42


def test_env_choice(monkeypatch):
    monkeypatch.setenv("KAIROS_C", "staging")
    with pytest.raises(ImproperlyConfigured, match="KAIROS_C must be one of dev, production"):
        env.env_choice("KAIROS_C", "dev", ("dev", "production"))
    monkeypatch.setenv("KAIROS_C", " Production ")
    assert env.env_choice("KAIROS_C", "dev", ("dev", "production")) == "production"


def test_env_str_required(monkeypatch):
    monkeypatch.delenv("KAIROS_S", raising=False)
    with pytest.raises(ImproperlyConfigured, match="KAIROS_S is required"):
        env.env_str("KAIROS_S")


def test_env_secret_file(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("s3cret\n", encoding="utf-8")
    monkeypatch.setenv("KAIROS_K_FILE", str(secret))
    assert env.env_secret("KAIROS_K") == "s3cret"
    monkeypatch.setenv("KAIROS_K_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="KAIROS_K_FILE points to .* not a readable file"):
        env.env_secret("KAIROS_K")


def test_env_list(monkeypatch):
    monkeypatch.setenv("KAIROS_L", " a.example, ,b.example ")
    assert env.env_list("KAIROS_L", []) == ["a.example", "b.example"]


# --- settings module in a clean interpreter -------------------------------------------------------

GOOD_SECRET = secrets.token_urlsafe(64)


def _production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("KAIROS_", "DJANGO_", "DEBUG", "SECRET_KEY"))
    }
    audit_key = tmp_path / "audit.key"  # production needs the audit HMAC key file (kairos.audit.keys)
    if not audit_key.exists():
        audit_key.write_text(secrets.token_hex(32) + "\n", encoding="ascii")
    base["KAIROS_AUDIT_KEY_FILE"] = str(audit_key)
    base.update(
        {
            "KAIROS_MODE": "production",
            "SECRET_KEY": GOOD_SECRET,
            "ALLOWED_HOSTS": "kairos.example.org",
            "KAIROS_BASE_URL": "https://kairos.example.org",
            "KAIROS_DEMO": "0",
            "KAIROS_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "kairos.config.settings",
            "PYTHONPATH": str(REPO / "src"),
        }
    )
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def _import_settings(environ: dict[str, str], code: str = "") -> subprocess.CompletedProcess[str]:
    script = "import kairos.config.settings as s\n" + code
    return subprocess.run(
        [sys.executable, "-c", script], env=environ, capture_output=True, text=True, timeout=60, cwd=REPO
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DEBUG": "1"}, "refuses to start with DEBUG on"),
        ({"SECRET_KEY": None}, "needs SECRET_KEY"),
        ({"SECRET_KEY": "short-key"}, "needs SECRET_KEY"),
        ({"SECRET_KEY": "kairos-dev-secret-key-not-for-production-use-0123456789"}, "needs SECRET_KEY"),
        ({"KAIROS_SECURE_COOKIES": "0"}, "refuses insecure cookies"),
        ({"ALLOWED_HOSTS": None}, "needs ALLOWED_HOSTS"),
        ({"KAIROS_REQUIRE_2FA": "0"}, "requires two-factor"),
        ({"KAIROS_DEMO": "1"}, "demo logins"),
        ({"KAIROS_BASE_URL": "http://kairos.example.org"}, "needs KAIROS_BASE_URL=https"),
        ({"KAIROS_LOGIN_FAILURE_LIMIT": "many"}, "KAIROS_LOGIN_FAILURE_LIMIT must be a whole number"),
        ({"KAIROS_SESSION_IDLE_MINUTES": "0"}, "KAIROS_SESSION_IDLE_MINUTES must be between 1 and 1440"),
        ({"KAIROS_MODE": "prod"}, "KAIROS_MODE must be one of dev, production"),
    ],
    ids=[
        "debug",
        "no-secret",
        "short-secret",
        "dev-secret",
        "insecure-cookies",
        "no-hosts",
        "no-2fa",
        "demo",
        "base-url-not-https",
        "bad-limit",
        "bad-idle",
        "bad-mode",
    ],
)
def test_production_refuses_unsafe_configuration(tmp_path, overrides, message):
    r = _import_settings(_production_env(tmp_path, **overrides))
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr and message in r.stderr, r.stderr[-800:]


def test_production_with_good_environment_is_strict(tmp_path):
    code = (
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.REQUIRE_2FA, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS, s.AXES_FAILURE_LIMIT, s.SESSION_COOKIE_AGE)"
    )
    environ = _production_env(tmp_path, KAIROS_LOGIN_FAILURE_LIMIT="3", KAIROS_SESSION_IDLE_MINUTES="10")
    r = _import_settings(environ, code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True", "True", "True", "True", "31536000", "3", "600"]


def test_secret_key_file_is_read(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(GOOD_SECRET + "\n", encoding="utf-8")
    r = _import_settings(
        _production_env(tmp_path, SECRET_KEY=None, SECRET_KEY_FILE=str(key_file)), "print(s.SECRET_KEY)"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == GOOD_SECRET


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout


# --- TLS: HSTS, HTTPS redirect, reverse proxy (issue 9) ---------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"KAIROS_HSTS_SECONDS": "0"}, "needs KAIROS_HSTS_SECONDS >= 31536000 (one year; got 0)"),
        ({"KAIROS_HSTS_SECONDS": "86400"}, "needs KAIROS_HSTS_SECONDS >= 31536000 (one year; got 86400)"),
        (
            {"KAIROS_HSTS_SECONDS": "0", "KAIROS_BEHIND_TLS_PROXY": "1", "KAIROS_SSL_REDIRECT": "0"},
            "needs KAIROS_HSTS_SECONDS >= 31536000",
        ),
        ({"KAIROS_SSL_REDIRECT": "0"}, "refuses KAIROS_SSL_REDIRECT=0 unless TLS ends at a reverse proxy"),
        ({"KAIROS_SSL_REDIRECT": "0", "KAIROS_BEHIND_TLS_PROXY": "0"}, "refuses KAIROS_SSL_REDIRECT=0"),
        ({"KAIROS_BEHIND_TLS_PROXY": "maybe"}, "KAIROS_BEHIND_TLS_PROXY must be one of"),
        ({"KAIROS_RATE_LINK_PER_MINUTE": "0"}, "refuses KAIROS_RATE_LINK_PER_MINUTE=0"),
        ({"KAIROS_RATE_LOGIN_PER_MINUTE": "0"}, "refuses KAIROS_RATE_LOGIN_PER_MINUTE=0"),
        ({"KAIROS_RATE_API_PER_MINUTE": "0"}, "refuses KAIROS_RATE_API_PER_MINUTE=0"),
        ({"KAIROS_RATE_API_PER_MINUTE": "-1"}, "KAIROS_RATE_API_PER_MINUTE must be between 0 and"),
    ],
    ids=[
        "hsts-0",
        "hsts-one-day",
        "hsts-0-even-behind-proxy",
        "redirect-off",
        "redirect-off-proxy-0",
        "bad-proxy-flag",
        "link-limit-off",
        "login-limit-off",
        "api-limit-off",
        "negative-limit",
    ],
)
def test_production_refuses_weak_tls_or_rate_limits_off(tmp_path, overrides, message):
    r = _import_settings(_production_env(tmp_path, **overrides))
    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr and message in r.stderr, r.stderr[-800:]


_TLS_PROBE = (
    "import django; django.setup()\n"
    "from django.test import Client\n"
    "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))\n"
    "c = Client(HTTP_HOST='kairos.example.org')\n"
    "r = c.get('/health', headers={'X-Forwarded-Proto': 'https'})\n"
    "print(r.status_code, r.get('Location', '-'), r.get('Strict-Transport-Security', '-'))\n"
)


def test_production_without_proxy_ignores_a_client_supplied_forwarded_proto(tmp_path):
    """No proxy: X-Forwarded-Proto is the client's word, so a plain-HTTP request claiming https is still
    redirected to https (and no HSTS header is sent over plain HTTP)."""
    r = _import_settings(_production_env(tmp_path), _TLS_PROBE)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.strip().splitlines()
    assert first == "True 31536000 None"
    assert second.split() == ["301", "https://kairos.example.org/health", "-"]


def test_production_behind_proxy_trusts_its_forwarded_proto_and_may_skip_the_redirect(tmp_path):
    """Behind the TLS proxy: redirect may be off (the proxy redirects), X-Forwarded-Proto is trusted, HSTS
    is still sent for a year."""
    environ = _production_env(tmp_path, KAIROS_BEHIND_TLS_PROXY="1", KAIROS_SSL_REDIRECT="0")
    r = _import_settings(environ, _TLS_PROBE)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.strip().splitlines()
    assert first == "False 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"
    assert second.split() == ["200", "-", "max-age=31536000;", "includeSubDomains;", "preload"]


def test_production_behind_proxy_keeps_the_redirect_by_default(tmp_path):
    r = _import_settings(
        _production_env(tmp_path, KAIROS_BEHIND_TLS_PROXY="1"), "print(s.SECURE_SSL_REDIRECT)"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


def test_check_deploy_is_clean_behind_the_proxy(tmp_path):
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(tmp_path, KAIROS_BEHIND_TLS_PROXY="1"),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert r.returncode == 0, r.stdout + r.stderr
