"""Test settings: the real settings with fast password hashing.

The database still comes from ``DATABASE_URL`` (SQLite by default, PostgreSQL in CI's second
pass); the broker stays whatever ``REDIS_URL`` says, because the integration tests start real
workers against it. Unit tests never reach the broker: they patch the enqueue call.
"""

from __future__ import annotations

import os

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {  # noqa: F405
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# One test database per test process, so two test runs on one machine (a developer's and
# CI's, or two developers') never destroy each other's database.
_RUN = os.getpid()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not memory: the integration tests' worker processes must see the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_gigasite_{_RUN}.sqlite3")}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_RUN}"}  # noqa: F405
