"""The one parser of a cluster size: the API (400), the pages (404) and the PDF's selection page."""

from __future__ import annotations

import pytest

from siting.dashboard.selectors import DashboardError, size_param
from tests.support.personas import login_as as _login
from tests.support.world import SIZES as WORLD_SIZES

SIZES = [1000, 10_000, 50_000]


def _never() -> list[int]:
    raise AssertionError("the run's sizes were read for a size that needs no check")


class SizeParamTests:
    def test_it_reads_a_whole_number_with_grouped_digits_and_spaces(self):
        assert size_param({"size": " 10_000 "}, _never) == 10_000

    def test_it_defaults_to_the_smallest_size(self):
        assert size_param({}, lambda: SIZES) == 1000
        assert size_param({"size": "  "}, lambda: SIZES) == 1000

    def test_it_defaults_to_the_preferred_size_only_when_the_run_has_it(self):
        assert size_param({}, lambda: SIZES, preferred=10_000) == 10_000
        assert size_param({}, lambda: SIZES, preferred=5000) == 1000

    @pytest.mark.parametrize("raw", ["ten", "1.5", "1e4", "--3"])
    def test_it_refuses_what_is_not_a_whole_number(self, raw):
        with pytest.raises(DashboardError, match=r"^size: .* is not a whole number of H100e$"):
            size_param({"size": raw}, _never)

    def test_it_refuses_to_default_when_the_run_has_no_size(self):
        with pytest.raises(DashboardError, match="^size: this run has no results$"):
            size_param({}, lambda: [])

    def test_it_refuses_an_unknown_size_only_when_asked(self):
        assert size_param({"size": "3"}, _never) == 3  # the API finds it out when it reads the results
        with pytest.raises(DashboardError, match="^size: 3 is not a size of this run$"):
            size_param({"size": "3"}, lambda: SIZES, known=True)
        assert size_param({"size": str(2**63)}, _never) == 2**63
        with pytest.raises(DashboardError):
            size_param({"size": str(2**63)}, lambda: SIZES, known=True)


@pytest.mark.django_db
class SizeInRequestsTests:
    """Every reader of ``size`` answers a bad one alike: 400 with the parser's message from the
    API, 404 from the pages."""

    def test_it_answers_400_with_the_reason_from_every_api_endpoint(self, client, run):
        from siting.dashboard import selectors as dashboard

        _login(client)
        site_id = int(dashboard.run_tables(run)[1000]["site_id"].iloc[0])
        for url in (
            f"/api/runs/{run.code}/sites/?size=ten",
            f"/api/runs/{run.code}/sites/?size=ten&format=csv",
            f"/api/runs/{run.code}/map-data/?size=ten",
            f"/api/runs/{run.code}/reweight/?size=ten",
            f"/api/sites/{site_id}/?run={run.code}&size=ten",
        ):
            resp = client.get(url)
            assert resp.status_code == 400, url
            assert resp.json() == {"error": "size: 'ten' is not a whole number of H100e"}, url

    def test_it_reads_the_same_size_on_the_pages_and_answers_404_otherwise(self, client, run):
        from siting.dashboard import selectors as dashboard

        _login(client, "official")
        site_id = int(dashboard.run_tables(run)[1000]["site_id"].iloc[0])
        assert client.get(f"/runs/{run.code}/map/?size=10_000").context["config"]["size"] == 10_000
        assert client.get(f"/runs/{run.code}/map/").context["config"]["size"] == min(WORLD_SIZES)
        assert client.get(f"/reports/runs/{run.code}/select/").context["size"] == 10_000  # its preferred size
        assert client.get(f"/reports/runs/{run.code}/select/?size=1_000").context["size"] == 1000
        for url in (
            f"/runs/{run.code}/map/?size=ten",
            f"/runs/{run.code}/map/?size=3",
            f"/sites/{site_id}/?run={run.code}&size=ten",
            f"/sites/{site_id}/?run={run.code}&size=3",
            f"/reports/runs/{run.code}/select/?size=ten",
            f"/reports/runs/{run.code}/select/?size=3",
        ):
            assert client.get(url).status_code == 404, url
