"""An analyst's upload in headless Chromium: file, preview map, confirm. No console error and
no request outside the test server; screenshots in ``var/test-artifacts/browser/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from grid.models import Boundary
from tests.browser.conftest import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "uploads" / "sample_points_wgs84.geojson"


@pytest.fixture
def analyst(live_server):
    """An analyst, and France's outline for the country check (before the browser starts)."""
    user = User.objects.create_user("ana", password="an-analyst-password")
    user.groups.add(Group.objects.get_or_create(name="analyst")[0])
    Boundary.objects.create(
        kind="country",
        code="FR",
        name="France",
        source="natural_earth",
        geometry_geojson={
            "type": "Polygon",
            "coordinates": [[[-5.5, 41.0], [10.0, 41.0], [10.0, 51.5], [-5.5, 51.5], [-5.5, 41.0]]],
        },
    )
    return user


def test_it_previews_an_upload_on_a_map_then_imports_it(live_server, analyst, browser):
    j = Journey(browser, live_server.url, "analyst")
    page = j.page
    j.log_in("ana", "an-analyst-password")
    page.goto(f"{live_server.url}/uploads/")
    page.set_input_files("input[type=file]", str(SAMPLE))
    page.fill("#id_source_name", "Browser test survey")
    j.shot("upload-form")
    page.click("form[enctype] button[type=submit]")
    page.wait_for_load_state()
    page.wait_for_selector("#upload-map .js-plotly-plot canvas, #upload-map .js-plotly-plot .main-svg")
    assert page.locator("#confirm-all").count() == 1
    j.shot("upload-preview")
    page.click("#confirm-all")
    page.wait_for_load_state()
    assert "Imported: 12 new sites" in page.inner_text(".messages")
    j.shot("upload-imported")
    assert j.errors == []
    assert j.outside == []
