"""A web process warms its caches as it starts (``config.wsgi``): the latest run at every size.

The `run` fixture (a scored synthetic world) is in this folder's conftest.py.
"""

from __future__ import annotations

import pytest

from siting.dashboard import api_selectors
from siting.dashboard import selectors as dashboard
from tests.support.world import SIZES

pytestmark = pytest.mark.django_db


def test_it_reads_every_size_of_the_latest_run_before_anyone_asks(run):
    api_selectors.api_caches_clear()
    dashboard.caches_clear()
    assert dashboard.latest_run() == run
    assert api_selectors.caches_warm() == len(SIZES)
    for size in SIZES:
        key = (*dashboard.run_key(run), size)
        assert key in api_selectors._size_arrays
        # What a request then gets is what was warmed, not read again.
        assert api_selectors.size_arrays(run, size) is api_selectors._size_arrays[key]


def test_it_does_nothing_without_a_finished_run(monkeypatch):
    monkeypatch.setattr(dashboard, "latest_run", lambda: None)
    assert api_selectors.caches_warm() == 0
