"""WSGI entry point.

A web process warms its caches on a side thread as it starts (``GIGASITE_WARM_CACHES=0`` turns
it off): the latest run's results, the site attributes and the outlines are read before the
first planner asks for them, not while 20 of them wait (``siting.dashboard.api_selectors.caches_warm``).
"""

from __future__ import annotations

import logging
import os
import threading

from django.core.wsgi import get_wsgi_application
from django.db import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _caches_warm() -> None:
    from siting.dashboard.api_selectors import caches_warm  # noqa: PLC0415 - once the application has set Django up

    try:
        caches_warm()
    except Exception:  # a cold cache is slower, not wrong: the requests read what is missing
        logging.getLogger(__name__).exception("Warming the caches failed; the first requests will read the data")
    finally:
        connections.close_all()


if os.environ.get("GIGASITE_WARM_CACHES", "1") != "0":
    threading.Thread(target=_caches_warm, name="gigasite-warm-caches", daemon=True).start()
