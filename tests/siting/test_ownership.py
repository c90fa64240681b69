"""Ownership: an upload, the sites it brought and a PDF comparison are their owner's (or an admin's).

Each test reproduces one finding of the authorisation audit: it failed against the code
before the ownership rule (``roles.may_manage``) and passes with it.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from siting.importers.sites import UploadRejected
from siting.models import Site, SiteUpload
from siting.uploads import services as uploads
from tests.support.personas import client_for as _client
from tests.support.uploads import boundaries, user  # noqa: F401

pytestmark = pytest.mark.django_db

CSV = b"id,name,lat,lon,area_ha\nA,Site A,49.2833,6.0648,10\nB,Site B,47.2744,-1.8795,20\n"
RENAMED = b"id,name,lat,lon,area_ha\nA,Hijacked,49.2833,6.0648,999\n"


@pytest.fixture
def two_analysts(boundaries):
    ana, bob = user("ana", "analyst"), user("bob", "analyst")
    upload = uploads.sites_import(data=CSV, file_name="ana.csv", source_name="Survey", user=ana).upload
    return ana, bob, upload


class WithdrawOwnershipTests:
    def test_it_refuses_another_analyst_the_withdrawal(self, two_analysts):
        _ana, bob, upload = two_analysts
        assert _client(bob).post(f"/uploads/{upload.code}/withdraw/").status_code == 403
        upload.refresh_from_db()
        assert upload.status == SiteUpload.Status.IMPORTED and not Site.objects.filter(withdrawn=True).exists()

    def test_it_refuses_it_in_the_service_too(self, two_analysts):
        _ana, bob, upload = two_analysts
        with pytest.raises(PermissionDenied):
            uploads.site_upload_withdraw(upload=upload, user=bob)
        assert not Site.objects.filter(withdrawn=True).exists()

    def test_it_lets_the_owner_and_an_admin_withdraw(self, two_analysts):
        ana, _bob, upload = two_analysts
        assert _client(ana).post(f"/uploads/{upload.code}/withdraw/").status_code == 302
        assert Site.objects.filter(withdrawn=True).count() == 2
        other = uploads.sites_import(data=CSV, file_name="again.csv", source_name="Other", user=ana).upload
        assert _client(user("root", "admin")).post(f"/uploads/{other.code}/withdraw/").status_code == 302
        assert Site.objects.filter(withdrawn=True).count() == 4

    def test_it_shows_the_withdraw_button_only_to_whom_may_use_it(self, two_analysts):
        ana, bob, upload = two_analysts
        url = f"/uploads/{upload.code}/"
        assert 'id="withdraw"' in _client(ana).get(url).content.decode()
        assert 'id="withdraw"' in _client(user("root", "admin")).get(url).content.decode()
        page = _client(bob).get(url)
        assert page.status_code == 200
        assert 'id="withdraw"' not in page.content.decode() and 'id="not-yours"' in page.content.decode()

    def test_it_refuses_another_analyst_the_discard_of_a_staged_upload(self, boundaries):
        ana, bob = user("ana", "analyst"), user("bob", "analyst")
        staged = uploads.site_upload_stage(data=CSV, file_name="s.csv", source_name="Survey", user=ana)
        with pytest.raises(PermissionDenied):
            uploads.site_upload_discard(upload=staged, user=bob)
        with pytest.raises(PermissionDenied):
            uploads.site_upload_confirm(upload=staged, user=bob)
        assert SiteUpload.objects.filter(status=SiteUpload.Status.STAGED).count() == 1 and not Site.objects.exists()


class UpdateOwnershipTests:
    def test_it_refuses_to_update_another_analysts_sites(self, two_analysts):
        _ana, bob, _upload = two_analysts
        with pytest.raises(UploadRejected) as exc:
            uploads.sites_import(
                data=RENAMED, file_name="bob.csv", source_name="Survey", user=bob, on_duplicate="update"
            )
        assert [(e.row, e.field) for e in exc.value.result.errors] == [(2, "external_id")]
        assert "someone else" in exc.value.result.errors[0].reason
        site = Site.objects.get(external_id="survey:A")
        assert (site.name, site.area_ha, site.upload.uploaded_by.username) == ("Site A", 10.0, "ana")

    def test_it_refuses_it_through_the_pages_too(self, two_analysts):
        from django.core.files.uploadedfile import SimpleUploadedFile

        _ana, bob, _upload = two_analysts
        c = _client(bob)
        c.post(
            "/uploads/new/",
            {
                "file": SimpleUploadedFile("bob.csv", RENAMED, content_type="text/csv"),
                "source_name": "Survey",
                "on_duplicate": "update",
            },
        )
        staged = SiteUpload.objects.get(status=SiteUpload.Status.STAGED)
        assert staged.sites_updated == 0 and staged.rows_rejected == 1
        c.post(f"/uploads/{staged.code}/confirm/")
        assert Site.objects.get(external_id="survey:A").name == "Site A"

    def test_it_lets_the_owner_and_an_admin_update(self, two_analysts):
        ana, _bob, _upload = two_analysts
        uploads.sites_import(data=RENAMED, file_name="ana2.csv", source_name="Survey", user=ana, on_duplicate="update")
        assert Site.objects.get(external_id="survey:A").name == "Hijacked"
        admin = user("root", "admin")
        fixed = RENAMED.replace(b"Hijacked", b"Fixed")
        uploads.sites_import(data=fixed, file_name="root.csv", source_name="Survey", user=admin, on_duplicate="update")
        assert Site.objects.get(external_id="survey:A").name == "Fixed"

    def test_it_still_lets_anyone_skip_another_analysts_sites(self, two_analysts):
        _ana, bob, _upload = two_analysts
        result = uploads.sites_import(
            data=CSV + b"C,Site C,49.1,6.1,5\n",
            file_name="bob.csv",
            source_name="Survey",
            user=bob,
            on_duplicate="skip",
        )
        assert (result.created, result.updated, result.skipped) == (1, 0, 2)


class ReportOwnershipTests:
    """A PDF comparison is its requester's: another official gets 403, an admin gets it."""

    def test_it_refuses_another_officials_document(self):
        from siting.reports import services as comparisons
        from tests.support.reports import SIZE
        from tests.support.reports import scored_run as _scored_run
        from tests.support.reports import shortlist as _shortlist

        run = _scored_run(draws=0)
        olga, oscar = user("olga", "official"), user("oscar", "official")
        report, _cached = comparisons.comparison_produce(
            run=run, size_h100e=SIZE, site_ids=_shortlist(run), language="en", user=olga
        )
        urls = [
            f"/reports/{report.code}/",
            f"/reports/{report.code}/progress.json",
            f"/reports/{report.code}/download/",
        ]
        for url in urls:
            assert _client(oscar).get(url).status_code == 403, url
            assert _client(olga).get(url).status_code == 200, url
            assert _client(user(f"root{len(url)}", "admin")).get(url).status_code == 200, url
        with pytest.raises(PermissionDenied):
            comparisons.comparison_get(code=report.code, user=oscar)

    def test_it_gives_two_officials_of_the_same_name_a_document_each(self):
        from siting.reports import services as comparisons
        from tests.support.reports import SIZE
        from tests.support.reports import scored_run as _scored_run
        from tests.support.reports import shortlist as _shortlist

        run = _scored_run(draws=0)
        ids = _shortlist(run)
        a = user("a", "official")
        b = user("b", "official")
        for u in (a, b):
            u.first_name, u.last_name = "Anne", "Martin"
            u.save()
        first = comparisons.comparison_request(
            run=run, size_h100e=SIZE, site_ids=ids, language="en", user=a, dispatch=False
        )
        second = comparisons.comparison_request(
            run=run, size_h100e=SIZE, site_ids=ids, language="en", user=b, dispatch=False
        )
        assert first.id != second.id and (first.created_by, second.created_by) == (a, b)
