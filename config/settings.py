"""Django settings for Gigasite.

Everything that differs between machines comes from the environment:

- ``DATABASE_URL``: a database URL (``postgres://user@host:5432/name``); SQLite in ``var/`` if unset.
- ``REDIS_URL``: the Celery broker (``redis://127.0.0.1:6379/0``). ``CELERY_BROKER_URL``
  overrides it (the setup script uses a ``filesystem://`` broker when no Redis answers).
- ``GIGASITE_DEBUG``: ``1`` turns DEBUG on. Off by default.
- ``SECRET_KEY``: if unset, one is generated once into ``.local/secret_key`` (untracked).
- ``ALLOWED_HOSTS``: comma-separated, default ``127.0.0.1,localhost``.

Production (see the README's checklist):

- ``GIGASITE_HTTPS``: ``1`` when the site is served over HTTPS only: redirects HTTP to HTTPS,
  sends HSTS, and marks the session and CSRF cookies ``Secure``. Off by default (a laptop).
- ``GIGASITE_HSTS_SECONDS`` (default one year with ``GIGASITE_HTTPS``),
  ``GIGASITE_HSTS_INCLUDE_SUBDOMAINS`` and ``GIGASITE_HSTS_PRELOAD`` (both on with HTTPS).
- ``GIGASITE_PROXY_SSL_HEADER``: ``1`` behind a reverse proxy that terminates TLS and sets
  ``X-Forwarded-Proto: https`` (and strips it from clients' requests).
- ``GIGASITE_PROXY_COUNT``: how many reverse proxies stand before Django, so the login
  throttle reads the client's address from ``X-Forwarded-For`` (default: none, ``REMOTE_ADDR``).
- ``CSRF_TRUSTED_ORIGINS``: comma-separated origins (``https://gigasite.example.org``).
- ``GIGASITE_LOGIN_FAILURE_LIMIT`` (5) and ``GIGASITE_LOGIN_COOLOFF_MIN`` (15): wrong
  passwords before a username or an address is locked out, and for how long.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
import plotly
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("GIGASITE_LOCAL_DIR", BASE_DIR / ".local"))
VAR_DIR = Path(os.environ.get("GIGASITE_VAR_DIR", BASE_DIR / "var"))


def _env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """Return SECRET_KEY from the environment, else from an untracked file made once."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = LOCAL_DIR / "secret_key"
    if not path.exists():
        LOCAL_DIR.mkdir(parents=True, exist_ok=True)
        # Write then rename: two processes starting at once must not read a half-written key.
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(secrets.token_urlsafe(50))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("GIGASITE_DEBUG")
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "grid",
    "siting",
    "csp",
    "axes",  # last, as its documentation asks
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "siting.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'gigasite.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web process and workers write the same file: wait for the lock instead of failing.
    # IMMEDIATE transactions take the write lock when they begin, so two workers that read
    # then write (storing a chunk) queue up instead of deadlocking, which SQLite reports at
    # once as "database is locked" whatever the timeout. WAL lets pages read meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# plotly.js is served from the installed plotly package, so the page and the Python side
# always agree on the version and nothing is fetched from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", Path(plotly.__file__).parent / "package_data")]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = VAR_DIR / "media"
# GIGASITE_STATIC=collected (set by ``./gigasite up``, which runs collectstatic first): static
# files are served from STATIC_ROOT under content-hashed names, gzip- and brotli-compressed,
# and cached by browsers for a year (WhiteNoise). Unset: served from the source folders,
# compressed but not hashed, so a shell or a command works without collectstatic.
STATIC_COLLECTED = os.environ.get("GIGASITE_STATIC", "") == "collected"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "config.storage.ModuleManifestStaticFilesStorage"
        if STATIC_COLLECTED
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# HTTPS only, when the deployment says so (GIGASITE_HTTPS=1). A laptop serving
# http://127.0.0.1 keeps them off, or the browser would refuse the cookies.
GIGASITE_HTTPS = _env_flag("GIGASITE_HTTPS")
SECURE_SSL_REDIRECT = GIGASITE_HTTPS
SESSION_COOKIE_SECURE = GIGASITE_HTTPS
CSRF_COOKIE_SECURE = GIGASITE_HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("GIGASITE_HSTS_SECONDS", str(365 * 24 * 3600) if GIGASITE_HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("GIGASITE_HSTS_INCLUDE_SUBDOMAINS", default=GIGASITE_HTTPS)
SECURE_HSTS_PRELOAD = _env_flag("GIGASITE_HSTS_PRELOAD", default=GIGASITE_HTTPS)
if _env_flag("GIGASITE_PROXY_SSL_HEADER"):
    # Only behind a proxy that sets this header itself and drops any a client sent.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# Content-Security-Policy (django-csp). Scripts: this site's files, plus inline scripts that
# carry the response's nonce (the upload preview's plotly figure). Styles: this site's
# files and inline styles, because plotly.js and MapLibre insert <style> rules and style
# attributes as they draw; scripts, the dangerous half, stay nonce-only. MapLibre (plotly's
# "map" traces) starts its web workers from blob: URLs. Nothing is loaded from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "child-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Login throttling (django-axes), for the login page and the admin's. A username, or a
# client address, with GIGASITE_LOGIN_FAILURE_LIMIT wrong passwords is locked out for
# GIGASITE_LOGIN_COOLOFF_MIN minutes, even with the right password meanwhile; a success
# clears that username's failures. ``manage.py axes_reset`` (or ``axes_reset_username NAME``)
# lifts a lockout at once. Attempts live in the database, so every web process agrees.
AUTHENTICATION_BACKENDS = [
    "siting.auth_backends.LoginThrottleBackend",  # first: refuses a locked-out login before checking it
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("GIGASITE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("GIGASITE_LOGIN_COOLOFF_MIN", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = int(os.environ["GIGASITE_PROXY_COUNT"]) if os.environ.get("GIGASITE_PROXY_COUNT") else None
AXES_VERBOSE = False

# Uploads of site files (siting.uploads.services). The upload view refuses a request whose body is
# larger than GIGASITE_UPLOAD_MAX_BYTES (plus room for the form fields) before reading it;
# files above FILE_UPLOAD_MAX_MEMORY_SIZE are spooled to a temporary file, not held in
# memory; DATA_UPLOAD_MAX_MEMORY_SIZE bounds the non-file form fields only.
GIGASITE_UPLOAD_MAX_BYTES = int(os.environ.get("GIGASITE_UPLOAD_MAX_BYTES", str(50 * 1024 * 1024)))
GIGASITE_UPLOAD_MAX_ROWS = int(os.environ.get("GIGASITE_UPLOAD_MAX_ROWS", "200000"))
GIGASITE_UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES = int(
    os.environ.get("GIGASITE_UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES", str(200 * 1024 * 1024))
)
GIGASITE_UPLOAD_ZIP_MAX_RATIO = float(os.environ.get("GIGASITE_UPLOAD_ZIP_MAX_RATIO", "100"))
GIGASITE_UPLOAD_ZIP_MAX_MEMBERS = int(os.environ.get("GIGASITE_UPLOAD_ZIP_MAX_MEMBERS", "100"))
# Reading a file runs in a child process with these hard limits (siting.importers.bounded).
GIGASITE_UPLOAD_MAX_COLUMNS = int(os.environ.get("GIGASITE_UPLOAD_MAX_COLUMNS", "200"))
GIGASITE_UPLOAD_MAX_LINE_BYTES = int(os.environ.get("GIGASITE_UPLOAD_MAX_LINE_BYTES", str(1024 * 1024)))
GIGASITE_UPLOAD_PARSE_TIMEOUT_S = float(os.environ.get("GIGASITE_UPLOAD_PARSE_TIMEOUT_S", "60"))
GIGASITE_UPLOAD_PARSE_MEMORY_MB = int(os.environ.get("GIGASITE_UPLOAD_PARSE_MEMORY_MB", "2048"))
GIGASITE_UPLOAD_TMP_DIR = os.environ.get("GIGASITE_UPLOAD_TMP_DIR") or None
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 1

# Celery: Redis by default. Messages are acknowledged after the task ran, so a worker that
# dies mid-task gives the message back to the broker (the run service makes that harmless).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "out"),
        "data_folder_out": str(_queue_dir / "out"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# One queue name per deployment; the test suite uses its own so a running dashboard is untouched.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("GIGASITE_QUEUE", "gigasite")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# The sweep recovers runs from crashed workers and publishes runs saved while Redis was down.
CELERY_BEAT_SCHEDULE = {
    "scoring-runs-sweep": {
        "task": "siting.scoring_runs_sweep",
        "schedule": float(os.environ.get("GIGASITE_SWEEP_EVERY_S", "15")),
    },
}
GIGASITE_STALE_AFTER_S = float(os.environ.get("GIGASITE_STALE_AFTER_S", "60"))
GIGASITE_DRAWS_PER_BLOCK: int | None = (
    int(os.environ["GIGASITE_DRAWS_PER_BLOCK"]) if os.environ.get("GIGASITE_DRAWS_PER_BLOCK", "").strip() else None
)
"""Monte Carlo draws per chunk of a run when set (read by the worker that lays the run out);
unset, each run chooses its block from the worker processes consuming its queue."""
GIGASITE_PROGRESS_INTERVAL_S = float(os.environ.get("GIGASITE_PROGRESS_INTERVAL_S", "1"))
"""How often a chunk of a run reports its progress and checks for a cancel. [s]"""
# How long a run's chunk retries a database that is down or locked before the run fails.
GIGASITE_DB_RETRY_S = float(os.environ.get("GIGASITE_DB_RETRY_S", "300"))
CELERY_BROKER_CONNECTION_TIMEOUT = 3.0
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS.update({"socket_connect_timeout": 3, "socket_timeout": 10})
