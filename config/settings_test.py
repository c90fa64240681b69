"""Test settings: the real settings with fast password hashing.

The database still comes from ``DATABASE_URL`` (SQLite by default, PostgreSQL in CI's second
pass); the broker stays whatever ``REDIS_URL`` says, because the integration tests start real
workers against it. Unit tests never reach the broker: they patch the enqueue call.
"""

from __future__ import annotations

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {  # noqa: F405
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A file, not memory: the integration tests' worker processes must see the test database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_gigasite.sqlite3")}  # noqa: F405
