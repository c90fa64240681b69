"""Django settings for Gigasite.

Everything that differs between machines comes from the environment:

- ``DATABASE_URL``: a database URL (``postgres://user@host:5432/name``); SQLite in ``var/`` if unset.
- ``REDIS_URL``: the Celery broker (``redis://127.0.0.1:6379/0``). ``CELERY_BROKER_URL``
  overrides it (the setup script uses a ``filesystem://`` broker when no Redis answers).
- ``GIGASITE_DEBUG``: ``1`` turns DEBUG on. Off by default.
- ``SECRET_KEY``: if unset, one is generated once into ``.local/secret_key`` (untracked).
- ``ALLOWED_HOSTS``: comma-separated, default ``127.0.0.1,localhost``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import plotly
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
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Uploads of site files (siting.uploads). The upload view refuses a request whose body is
# larger than GIGASITE_UPLOAD_MAX_BYTES (plus room for the form fields) before reading it;
# files above FILE_UPLOAD_MAX_MEMORY_SIZE are spooled to a temporary file, not held in
# memory; DATA_UPLOAD_MAX_MEMORY_SIZE bounds the non-file form fields only.
GIGASITE_UPLOAD_MAX_BYTES = int(os.environ.get("GIGASITE_UPLOAD_MAX_BYTES", str(50 * 1024 * 1024)))
GIGASITE_UPLOAD_MAX_ROWS = int(os.environ.get("GIGASITE_UPLOAD_MAX_ROWS", "200000"))
GIGASITE_UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("GIGASITE_UPLOAD_ZIP_MAX_UNCOMPRESSED_BYTES", str(200 * 1024 * 1024)))
GIGASITE_UPLOAD_ZIP_MAX_RATIO = float(os.environ.get("GIGASITE_UPLOAD_ZIP_MAX_RATIO", "100"))
GIGASITE_UPLOAD_ZIP_MAX_MEMBERS = int(os.environ.get("GIGASITE_UPLOAD_ZIP_MAX_MEMBERS", "100"))
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
    "scoring-runs-sweep": {"task": "siting.scoring_runs_sweep", "schedule": float(os.environ.get("GIGASITE_SWEEP_EVERY_S", "15"))},
}
GIGASITE_STALE_AFTER_S = float(os.environ.get("GIGASITE_STALE_AFTER_S", "60"))
CELERY_BROKER_CONNECTION_TIMEOUT = 3.0
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS.update({"socket_connect_timeout": 3, "socket_timeout": 10})
