"""The log-in throttle's authentication backend."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, skipped when there is no request to throttle.

    Every log-in over HTTP (the login page, the admin's) passes its request, so it is checked.
    ``authenticate()`` without one comes from code on the server itself (a shell, the test
    client's ``login()``), which has no client address or attempt to count; axes would raise.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
