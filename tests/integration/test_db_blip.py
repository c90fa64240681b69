"""A real worker rides out a database held locked (SQLite) or gone (PostgreSQL) for a minute; a
real web server refuses a hostile file in time."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from django.db import connection

from siting.models import RunChunk, RunResult, ScoringRun, SiteUpload
from siting.runs import selectors as run_selectors
from siting.runs import services as runs
from tests.support.uploads import boundaries  # noqa: F401
from tests.support.world import world_create

from .conftest import database_url
from .test_run_workers import _comparable, _params, _wait

ROOT = Path(__file__).resolve().parents[2]
LOCK_S = 60.0
"""How long the test holds the database: twice SQLite's 30 s busy timeout. [s]"""

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _hold_lock(seconds: float, started: threading.Event) -> None:
    """Hold the database's write lock for ``seconds`` from this (the test) process."""
    cfg = connection.settings_dict
    if cfg["ENGINE"].endswith("sqlite3"):
        db = sqlite3.connect(cfg["NAME"], timeout=60, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        started.set()
        time.sleep(seconds)
        db.execute("COMMIT")
        db.close()
    else:
        # PostgreSQL makes a writer wait for a lock without an error, so a lock tests nothing
        # there: take the database away instead. New connections are refused and open ones
        # (the worker's, and this test's own) are cut, for ``seconds``.
        import psycopg

        name = cfg["NAME"]
        admin_url = database_url().replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            started.set()
            try:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
                    time.sleep(1.0)
            finally:
                admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')


class DatabaseLockedTests:
    def test_it_finishes_a_run_whose_database_was_locked_for_a_minute_mid_chunk(self, start_worker):
        world_create(n_sites=1500, n_points=800)
        params = _params()
        # One block of 3,000 draws per size (the worker, which takes the snapshot, lays the run
        # out): a chunk of this small world then lasts seconds, so the outage, started as soon
        # as a chunk reports progress, meets the worker mid-chunk (with short chunks it could
        # meet it between two, where only the claim retries).
        worker = start_worker(
            "w1", extra_env={"GIGASITE_DRAWS_PER_BLOCK": "3000", "GIGASITE_PROGRESS_INTERVAL_S": "0.05"}
        )
        run = runs.scoring_run_start(params=params.to_dict(), draws=3000, name="locked")
        _wait(run, until=lambda r: r.chunks.filter(status=RunChunk.Status.RUNNING, progress_pct__gt=0).exists())
        assert run.chunks.filter(status=RunChunk.Status.PENDING).count() >= 2, "the run must outlast the outage's start"
        started = threading.Event()
        holder = threading.Thread(target=_hold_lock, args=(LOCK_S, started), daemon=True)
        t0 = time.monotonic()
        holder.start()
        assert started.wait(30)
        holder.join()
        assert time.monotonic() - t0 >= LOCK_S
        connection.close()  # on PostgreSQL the outage cut this process's connection too
        run = _wait(run, timeout_s=400)
        assert run.status == ScoringRun.Status.SUCCEEDED, run.error
        assert "database unavailable" in worker.log()  # the lock was met, and ridden out
        assert RunResult.objects.filter(run=run).count() == 4
        expected = run_selectors.score_loaded_sites(params=params, draws=3000).table
        pd.testing.assert_frame_equal(
            _comparable(run_selectors.run_table(run)), _comparable(expected), check_dtype=False
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _form_post(opener, url: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None):
    import urllib.request
    import uuid

    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (file_name, data) in (files or {}).items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(
        url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": url}
    )
    return opener.open(req, timeout=120)


def _csrf(jar) -> str:
    return next(c.value for c in jar if c.name == "csrftoken")


class HostileUploadServerTests:
    def test_it_refuses_an_endless_geopackage_through_gunicorn_in_time_and_leaves_no_file(self, tmp_path, boundaries):
        import http.cookiejar
        import urllib.error
        import urllib.request

        from tests.support.hostile_files import endless_view_gpkg
        from tests.support.uploads import user

        user("ana", "analyst")
        upload_tmp = tmp_path / "upload-tmp"
        upload_tmp.mkdir()
        port = _free_port()
        # The test settings only for their password hasher (the user was made with it).
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
            "GIGASITE_UPLOAD_TMP_DIR": str(upload_tmp),
            "GIGASITE_UPLOAD_PARSE_TIMEOUT_S": "5",
            "PYTHONUNBUFFERED": "1",
        }
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
                "1",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            deadline = time.monotonic() + 60
            while True:
                try:
                    opener.open(f"{base}/accounts/login/", timeout=5)
                    break
                except (urllib.error.URLError, ConnectionError):
                    assert server.poll() is None and time.monotonic() < deadline, (
                        tmp_path / "gunicorn.log"
                    ).read_text()
                    time.sleep(0.3)
            _form_post(
                opener,
                f"{base}/accounts/login/",
                {"username": "ana", "password": "pw", "csrfmiddlewaretoken": _csrf(jar)},
            )
            opener.open(f"{base}/uploads/", timeout=10)
            data = endless_view_gpkg(tmp_path / "endless.gpkg").read_bytes()
            started = time.monotonic()
            with pytest.raises(urllib.error.HTTPError) as err:
                _form_post(
                    opener,
                    f"{base}/uploads/new/",
                    {"source_name": "Survey", "on_duplicate": "error", "csrfmiddlewaretoken": _csrf(jar)},
                    {"file": ("endless.gpkg", data)},
                )
            elapsed = time.monotonic() - started
            page = err.value.read().decode()
            assert err.value.code == 400, page[:500]
            assert "“endless.gpkg” could not be read within 5 seconds" in page
            assert elapsed < 5 + 10
            assert not SiteUpload.objects.exists()
            assert list(upload_tmp.iterdir()) == []
            assert server.poll() is None  # the web worker itself was never killed
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)
            log.close()
