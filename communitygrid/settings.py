"""Django settings for communitygrid, read from the environment (see README "Configuration").

Defaults are the embedded demo: SQLite in the data directory, tasks in-process.
Production sets DATABASE_URL=postgres://…, CG_TASKS=celery, and real secrets.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.utils.translation import gettext_lazy as _

from communitygrid.conf import (
    ConfigError,
    data_dir,
    dev_secret,
    env_bool,
    env_int,
    env_list,
    env_str,
    random_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()
DEV_SECRETS = env_bool("CG_DEV_SECRETS", False)
DEBUG = env_bool("CG_DEBUG", False)


def _secret(name: str, generate, dev_file: str) -> str:
    value = env_str(name)
    if value:
        return value
    if DEV_SECRETS:
        # DEVELOPMENT ONLY: generated once per data directory for the demo and the tests.
        return dev_secret(DATA_DIR / "secrets" / dev_file, generate)
    raise ConfigError(
        f"{name} is not set. Set {name} (or {name}_FILE) for production, "
        "or CG_DEV_SECRETS=1 to generate development-only keys in the data directory."
    )


SECRET_KEY = _secret("CG_SECRET_KEY", random_secret_key, "DEV-ONLY-secret-key.txt")

# Field encryption keyring: comma-separated Fernet keys, newest first. Old keys stay for
# decryption until `communitygrid rotate-keys` has re-encrypted every field.
FIELD_ENCRYPTION_KEYS = [
    key
    for key in _secret(
        "CG_FIELD_KEYS", lambda: Fernet.generate_key().decode(), "DEV-ONLY-field-keys.txt"
    ).split(",")
    if key.strip()
]
# Keyed hash (HMAC-SHA256) for blind indexes: exact search on encrypted fields.
BLIND_INDEX_KEY = _secret(
    "CG_BLIND_INDEX_KEY",
    lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "DEV-ONLY-blind-index-key.txt",
)

ALLOWED_HOSTS = env_list("CG_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CG_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "communitygrid.accounts",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Ninja's templates and static files: /api/docs serves Swagger UI from the installed package, not a CDN.
    "ninja",
    "communitygrid.core",
    "communitygrid.privacy",
    "communitygrid.geo",
    "communitygrid.registry",
    "communitygrid.notifications",
    "communitygrid.cases",
    "communitygrid.apikeys",
    "communitygrid.restapi",
    "communitygrid.open311",
    "communitygrid.patrols",
    "communitygrid.workbench",
    "communitygrid.insights",
    "communitygrid.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "communitygrid.core.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "communitygrid.apikeys.auth.ApiKeyUseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "communitygrid.urls"
WSGI_APPLICATION = "communitygrid.wsgi.application"

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
                "django.template.context_processors.i18n",
                "communitygrid.core.context_processors.ui",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'communitygrid.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", _default_db))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on the busy timeout instead of failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": env_str("CG_TEST_SQLITE", "") or None}
else:
    # Persistent connections: a new PostgreSQL backend per request costs more CPU than a whole
    # submission. (dj_database_url.parse always returns CONN_MAX_AGE=0, so set, never setdefault.)
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CG_DB_CONN_MAX_AGE", 60)
    if env_bool("CG_DB_PREPARED", True):
        # Parameters bound by the server and statements prepared on their 5th use in a
        # connection: PostgreSQL parses and plans a hot statement once per connection instead
        # of once per request (docs/decisions/0005). Turn off behind a transaction-pooling
        # PgBouncer older than 1.21; restart the servers after a migration that alters tables.
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS: list = []  # each app keeps its own locale/ directory
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("CG_TIME_ZONE", "Asia/Shanghai")
LANGUAGE_COOKIE_NAME = "cg_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "uploads"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("CG_SESSION_SECONDS", 8 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Background work: "inprocess" (demo default: the serve command runs a scheduler thread)
# or "celery" (production: Celery workers on Redis).
TASKS_MODE = env_str("CG_TASKS", "inprocess")
if TASKS_MODE not in {"inprocess", "celery"}:
    raise ConfigError(f"CG_TASKS={TASKS_MODE!r} must be 'inprocess' or 'celery'")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", None)
CELERY_TASK_ALWAYS_EAGER = TASKS_MODE == "inprocess"
CELERY_TIMEZONE = "UTC"

# E-mail (a notification channel). The console backend is the safe default: without a mail
# server configured, messages are printed instead of retried until dead.
EMAIL_BACKEND = env_str("CG_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("CG_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("CG_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("CG_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("CG_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("CG_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("CG_DEFAULT_FROM_EMAIL", "communitygrid@localhost")

# Outbox delivery (defaults and meaning in communitygrid/notifications/conf.py).
NOTIFICATION_MAX_ATTEMPTS = env_int("CG_NOTIFICATION_MAX_ATTEMPTS", 12)
NOTIFICATION_RETRY_BASE_SECONDS = env_int("CG_NOTIFICATION_RETRY_BASE_SECONDS", 30)
NOTIFICATION_RETRY_CAP_SECONDS = env_int("CG_NOTIFICATION_RETRY_CAP_SECONDS", 6 * 3600)
NOTIFICATION_LEASE_SECONDS = env_int("CG_NOTIFICATION_LEASE_SECONDS", 300)
NOTIFICATION_WEBHOOK_TIMEOUT = env_int("CG_NOTIFICATION_WEBHOOK_TIMEOUT", 10)
NOTIFICATION_DELIVER_EVERY_SECONDS = env_int("CG_NOTIFICATION_DELIVER_EVERY_SECONDS", 10)
# Webhooks post only to hosts whose every address is on the public network, checked on saving an
# endpoint and again on connecting (communitygrid/notifications/outbound.py). On lifts that, for a
# closed network whose receivers are all private; never on a server others may subscribe to.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("CG_WEBHOOK_ALLOW_PRIVATE_URLS", False)

# Cases: open cases one person may hold before dispatch looks elsewhere; attachment size cap.
CASE_WORKLOAD_CAP = env_int("CG_CASE_WORKLOAD_CAP", 30)
CASE_ATTACHMENT_MAX_BYTES = env_int("CG_CASE_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)

# Residents sign up and sign in with a one-time code sent to their mobile number. The sender is
# "screen" (the code is shown on the page: the demo, or a closed network without an SMS gateway)
# or the dotted path of a class with ``send(*, phone, message)`` (see communitygrid/accounts/sms.py).
SMS_SENDER = env_str("CG_SMS_SENDER", "screen")
OTP_TTL_SECONDS = env_int("CG_OTP_TTL_SECONDS", 300)
OTP_MAX_ATTEMPTS = env_int("CG_OTP_MAX_ATTEMPTS", 5)
OTP_RESEND_SECONDS = env_int("CG_OTP_RESEND_SECONDS", 60)
OTP_PER_PHONE_PER_HOUR = env_int("CG_OTP_PER_PHONE_PER_HOUR", 5)
OTP_PER_IP_PER_HOUR = env_int("CG_OTP_PER_IP_PER_HOUR", 30)
# Optional map tiles for the resident portal's map (e.g. an intranet tile server); empty by default:
# the map then draws the grids' own outlines on a plain background (closed networks).
CG_MAP_TILE_URL = env_str("CG_MAP_TILE_URL", "")

# Households per comprehensive grid and per grid worker (PRODUCT.md capability 1).
GRID_HOUSEHOLDS_MIN = env_int("CG_GRID_HOUSEHOLDS_MIN", 300)
GRID_HOUSEHOLDS_MAX = env_int("CG_GRID_HOUSEHOLDS_MAX", 500)
WORKER_HOUSEHOLDS_NORM = env_int("CG_WORKER_HOUSEHOLDS_NORM", 500)
WORKER_HOUSEHOLDS_OVERLOAD = env_int("CG_WORKER_HOUSEHOLDS_OVERLOAD", 800)

# Visits: shorter than this, or open longer than that, is flagged and does not count for care rules.
VISIT_MIN_MINUTES = env_int("CG_VISIT_MIN_MINUTES", 5)
VISIT_MAX_HOURS = env_int("CG_VISIT_MAX_HOURS", 4)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("CG_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Open311 GeoReport v2 (/open311/v2/): the one jurisdiction served, what discovery tells clients.
OPEN311_JURISDICTION = env_str("CG_OPEN311_JURISDICTION", "communitygrid")
OPEN311_CONTACT = env_str("CG_OPEN311_CONTACT", "")
OPEN311_KEY_SERVICE = env_str("CG_OPEN311_KEY_SERVICE", "API keys are issued by the platform's system administrator.")
OPEN311_MAX_BODY = env_int("CG_OPEN311_MAX_BODY", 64 * 1024)
