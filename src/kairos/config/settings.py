"""Django settings for Kairos, read from environment variables (documented in .env.example).

``KAIROS_MODE=dev`` (default) is for a laptop: SQLite under ``var/``, DEBUG on, two-factor optional.
``KAIROS_MODE=production`` refuses to start with DEBUG on, a default or short secret key, or insecure
cookies, and requires two-factor authentication for every staff role.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from kairos.config.env import env_bool, env_choice, env_int, env_list, env_secret, env_str

SRC_DIR = Path(__file__).resolve().parents[2]
BASE_DIR = SRC_DIR.parent
VAR_DIR = Path(env_str("KAIROS_VAR_DIR", str(BASE_DIR / "var")))

MODE = env_choice("KAIROS_MODE", "dev", ("dev", "production"))
PRODUCTION = MODE == "production"
TESTING = "pytest" in sys.modules or env_bool("KAIROS_TESTING", False)

_DEV_SECRET = "kairos-dev-secret-key-not-for-production-use-0123456789"
SECRET_KEY = env_secret("SECRET_KEY", _DEV_SECRET)
DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

SECURE_COOKIES = env_bool("KAIROS_SECURE_COOKIES", PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# Inactivity expiry: the session is refreshed on every request and ends after this many idle minutes.
SESSION_COOKIE_AGE = env_int("KAIROS_SESSION_IDLE_MINUTES", 15, minimum=1, maximum=24 * 60) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# TLS. KAIROS_BEHIND_TLS_PROXY=1: TLS ends at our reverse proxy (docs/DEPLOYMENT.md "Reverse proxy"), so
# X-Forwarded-Proto from it says whether the request was HTTPS, and the last X-Forwarded-For address is
# the client's (rate limits). Without a proxy these headers are the client's own words: never trusted.
KAIROS_BEHIND_TLS_PROXY = env_bool("KAIROS_BEHIND_TLS_PROXY", False)
if KAIROS_BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS minimum in production: one year, the floor of browsers' preload lists (SECURE_HSTS_PRELOAD is on);
# a shorter max-age lets a network attacker strip TLS again soon after a patient's last visit.
HSTS_MINIMUM_SECONDS = 31536000
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("KAIROS_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("KAIROS_HSTS_SECONDS", HSTS_MINIMUM_SECONDS, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if SECURE_HSTS_SECONDS < HSTS_MINIMUM_SECONDS:
        raise ImproperlyConfigured(
            f"KAIROS_MODE=production needs KAIROS_HSTS_SECONDS >= {HSTS_MINIMUM_SECONDS} (one year; "
            f"got {SECURE_HSTS_SECONDS})"
        )
    if not SECURE_SSL_REDIRECT and not KAIROS_BEHIND_TLS_PROXY:
        raise ImproperlyConfigured(
            "KAIROS_MODE=production refuses KAIROS_SSL_REDIRECT=0 unless TLS ends at a reverse proxy "
            "(KAIROS_BEHIND_TLS_PROXY=1)"
        )
    if DEBUG:
        raise ImproperlyConfigured("KAIROS_MODE=production refuses to start with DEBUG on")
    if SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "KAIROS_MODE=production needs SECRET_KEY (or SECRET_KEY_FILE), 50+ characters"
        )
    if not SECURE_COOKIES:
        raise ImproperlyConfigured(
            "KAIROS_MODE=production refuses insecure cookies (KAIROS_SECURE_COOKIES=0)"
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("KAIROS_MODE=production needs ALLOWED_HOSTS")

REQUIRE_2FA = env_bool("KAIROS_REQUIRE_2FA", PRODUCTION)
if PRODUCTION and not REQUIRE_2FA:
    raise ImproperlyConfigured(
        "KAIROS_MODE=production requires two-factor authentication (KAIROS_REQUIRE_2FA)"
    )
# API tokens expire after this many days unless created with another lifetime (kairos.accounts.services).
KAIROS_API_TOKEN_DAYS = env_int("KAIROS_API_TOKEN_DAYS", 90, minimum=1, maximum=365)
DEMO_LOGINS = env_bool("KAIROS_DEMO", not PRODUCTION)
if PRODUCTION and DEMO_LOGINS:
    raise ImproperlyConfigured("demo logins (KAIROS_DEMO) are for dev mode only")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "kairos.web",
    "kairos.accounts",
    "kairos.access",
    "kairos.audit",
    "kairos.patients",
    "kairos.api",
    "kairos.courses",
    "kairos.intake",
    "kairos.dosing",
    "kairos.measures",
    "kairos.rulesets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kairos.web.middleware.RequestIdMiddleware",
    "kairos.web.ratelimit.RateLimitMiddleware",  # 429 before sessions or views run
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kairos.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    # after auth: records 403/404 on object routes to signed-in users as DENIED audit events (bounded)
    "kairos.audit.middleware.DeniedAccessMiddleware",
]

ROOT_URLCONF = "kairos.config.urls"
WSGI_APPLICATION = "kairos.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "kairos.web.context.kairos",
            ]
        },
    }
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kairos.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE write transactions serialise writers (the audit chain relies on it) instead of
    # failing with "database is locked" on upgrade; WAL lets readers run beside the writer.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# PostgreSQL two roles (docs/DEPLOYMENT.md): DATABASE_URL is the application role (no DDL, append-only
# audit tables). KAIROS_DB_OWNER_URL, when set, is the owner role and replaces DATABASE_URL only for
# `manage.py migrate`, `createcachetable` and `audit_db_grants` (whole process, so third-party data
# migrations that ignore the database alias run as the owner too); every other process ignores it.
DB_APP_ROLE = str(DATABASES["default"].get("USER") or "")
DB_OWNER_URL = env_secret("KAIROS_DB_OWNER_URL", "")
DB_OWNER_COMMANDS = ("migrate", "createcachetable", "audit_db_grants")
_MANAGE_COMMAND = sys.argv[1] if len(sys.argv) > 1 and Path(sys.argv[0]).name == "manage.py" else ""
if DB_OWNER_URL and _MANAGE_COMMAND in DB_OWNER_COMMANDS:
    DATABASES["default"] = dj_database_url.parse(DB_OWNER_URL, conn_max_age=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "kairos_cache"}}
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("KAIROS_LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("KAIROS_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
# The same client address as the rate limits: behind KAIROS_BEHIND_TLS_PROXY the proxy's X-Forwarded-For entry.
AXES_CLIENT_IP_CALLABLE = "kairos.web.ratelimit.client_ip"
OTP_TOTP_ISSUER = "Kairos"

# Content-Security-Policy: no inline scripts or styles anywhere (htmx is configured accordingly).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", PRODUCTION)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Kairos <kairos@localhost>")

# Public address of this Kairos, for links in e-mails sent by the worker (questionnaire links, reminders).
KAIROS_BASE_URL = env_str("KAIROS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
if PRODUCTION and not KAIROS_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("KAIROS_MODE=production needs KAIROS_BASE_URL=https://…")

# Break-glass grants last this long (a clinic policy, not a clinical number).
KAIROS_BREAK_GLASS_MINUTES = env_int("KAIROS_BREAK_GLASS_MINUTES", 60, minimum=5, maximum=24 * 60)

# Tamper-evident audit trail (kairos.audit.keys, kairos.audit.checkpoint; docs/DEPLOYMENT.md). The HMAC
# key file is never in the database: one key per line, newest last (it signs), all verify. Production
# refuses to start without a readable file of 32+ byte keys; dev and tests default to var/audit.key,
# created (mode 0600) on first use. Checkpoints of every chain head go to a directory on a schedule
# (`manage.py audit_checkpoint`, run by `make run`'s ticker; cron/systemd timer in production).
AUDIT_KEY_FILE = env_str("KAIROS_AUDIT_KEY_FILE", "" if PRODUCTION else str(VAR_DIR / "audit.key"))
AUDIT_KEY_AUTOCREATE = not PRODUCTION and env_str("KAIROS_AUDIT_KEY_FILE", "") == ""
if PRODUCTION:
    from kairos.audit.keys import KeyFileError, parse_key_file

    if not AUDIT_KEY_FILE:
        raise ImproperlyConfigured("KAIROS_MODE=production needs KAIROS_AUDIT_KEY_FILE (the audit HMAC key)")
    try:
        parse_key_file(AUDIT_KEY_FILE)
    except KeyFileError as exc:
        raise ImproperlyConfigured(f"KAIROS_MODE=production: {exc}") from None
AUDIT_CHECKPOINT_DIR = Path(env_str("KAIROS_AUDIT_CHECKPOINT_DIR", str(VAR_DIR / "audit-checkpoints")))
AUDIT_CHECKPOINT_MINUTES = env_int("KAIROS_AUDIT_CHECKPOINT_MINUTES", 60, minimum=1, maximum=7 * 24 * 60)

# Audit volume bounds (kairos.audit.reads, kairos.audit.middleware, kairos.accounts.signals). Polled
# partials (board, alerts: every 10 s) record one read per user and object per window; denied-access rows
# at most one per user+route+object per minute and this many per user per minute; failed sign-ins for
# unknown usernames at most one row per client address per minute. Suppressed repeats are counted and
# reported in the next row's ``new`` as {"suppressed": k}.
KAIROS_AUDIT_READ_THROTTLE_MINUTES = env_int(
    "KAIROS_AUDIT_READ_THROTTLE_MINUTES", 15, minimum=1, maximum=24 * 60
)
KAIROS_AUDIT_DENIED_PER_MINUTE = env_int("KAIROS_AUDIT_DENIED_PER_MINUTE", 20, minimum=1, maximum=10_000)

# Rate limits (kairos.web.ratelimit): requests per 60-second window; 0 = off (dev only). Links: a patient
# needs a handful of requests per questionnaire, a waiting room may share one address. Sign-in: POSTs from
# one address across all usernames (django-axes locks username+address after 5 failures). API: per token.
KAIROS_RATE_LINK_PER_MINUTE = env_int("KAIROS_RATE_LINK_PER_MINUTE", 60, minimum=0, maximum=100_000)
KAIROS_RATE_LOGIN_PER_MINUTE = env_int("KAIROS_RATE_LOGIN_PER_MINUTE", 30, minimum=0, maximum=100_000)
KAIROS_RATE_API_PER_MINUTE = env_int("KAIROS_RATE_API_PER_MINUTE", 600, minimum=0, maximum=1_000_000)
_RATE_LIMITS_OFF = [
    name
    for name, value in (
        ("KAIROS_RATE_LINK_PER_MINUTE", KAIROS_RATE_LINK_PER_MINUTE),
        ("KAIROS_RATE_LOGIN_PER_MINUTE", KAIROS_RATE_LOGIN_PER_MINUTE),
        ("KAIROS_RATE_API_PER_MINUTE", KAIROS_RATE_API_PER_MINUTE),
    )
    if value == 0
]
if PRODUCTION and _RATE_LIMITS_OFF:
    raise ImproperlyConfigured(f"KAIROS_MODE=production refuses {_RATE_LIMITS_OFF[0]}=0 (rate limit off)")

# Questionnaire-link tokens never reach a log line (kairos.web.log_redaction): the filter sits on the one
# console handler and on the loggers that write request paths; Django's own console/mail handlers are
# dropped so every record goes through it (gunicorn: kairos.config.gunicorn_conf).
_REDACT = ["redact_secret_paths"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secret_paths": {"()": "kairos.web.log_redaction.RedactSecretPaths"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": _REDACT}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper(),
    },
    "loggers": {
        "axes": {"level": "WARNING"},
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "propagate": True, "filters": _REDACT},
        "django.request": {"handlers": [], "propagate": True, "filters": _REDACT},
        "django.security.csrf": {"handlers": [], "propagate": True, "filters": _REDACT},
    },
}
