"""The ranked map as ``./gigasite up`` serves it: gunicorn with collected static files. The page
loads only content-hashed, compressed static files from that server, the map's partial
plotly.js bundle (not the full one), and makes no request anywhere else."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from tests.browser.conftest import Journey
from tests.integration.conftest import database_url
from tests.support.world import scored_world_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
HASHED = re.compile(r"/static/.+\.[0-9a-f]{12}\.[a-z]+$")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_cookie(user) -> dict[str, str]:
    """Return a logged-in session for ``user``: the server runs the real settings, whose password
    hashers do not read the test settings' fast hashes, so the test does not log in by form."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key}


@pytest.fixture
def production_server(tmp_path):
    """Start gunicorn on the test database with static files collected (hashed, gzip, brotli)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "GIGASITE_STATIC": "collected",
        "GIGASITE_VAR_DIR": str(tmp_path),
        "GIGASITE_DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/accounts/login/", timeout=30).read()
                break
            except OSError:  # refused while it starts, or slow on a busy machine
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.3)
        yield base
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def map_world():
    """Score a small world and log a planner in (before the browser starts: the ORM refuses to
    run beside Playwright's event loop); return the run's code and the session cookie."""
    run = scored_world_create(n_sites=120, n_points=100, draws=5)
    planner = User.objects.create_user("paul", password="a-long-test-password")
    planner.groups.add(Group.objects.get_or_create(name="planner")[0])
    return run.code, _session_cookie(planner)


def test_it_loads_only_hashed_compressed_static_files_from_the_server(map_world, production_server, browser):
    code, cookie = map_world
    j = Journey(browser, production_server, "production-static")
    page = j.page
    page.context.add_cookies([{**cookie, "url": production_server}])
    responses = []
    page.on("response", lambda r: responses.append((r.url, r.status, r.headers.get("content-encoding", ""))))
    page.goto(f"{production_server}/runs/{code}/map/")
    deadline = time.monotonic() + 60
    # Polled from here: the CSP forbids evaluating a predicate inside the page.
    while not page.evaluate("Number(document.getElementById('ranked-map')?.dataset.drawn || 0) >= 1"):
        assert time.monotonic() < deadline, "the map was not drawn"
        page.wait_for_timeout(50)
    j.shot("map")

    static = [(u, s, enc) for u, s, enc in responses if "/static/" in u]
    scripts = [u for u, _s, _e in static if u.endswith(".js")]
    assert any("/vendor/plotly-map/plotly-map.min." in u for u in scripts)
    assert not any("/vendor/plotly/plotly.min." in u for u in scripts)  # the full bundle is for other pages
    for url, status, encoding in static:
        assert status == 200 and HASHED.search(url), url
        if url.endswith((".js", ".css")):
            assert encoding in ("br", "gzip"), (url, encoding)
    assert j.outside == [] and j.errors == []
