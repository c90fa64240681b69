"""The import's bulk insert writes exactly the rows the ORM would write for the same sites."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.forms.models import model_to_dict

from siting.models import Site, SiteSource, SiteUpload
from siting.uploads import services as uploads
from tests.support.uploads import boundaries  # noqa: F401

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[3] / "fixtures" / "uploads"


def _orm_rows(plan: uploads.Plan, upload: SiteUpload) -> list[Site]:
    """The sites as model instances, the way the import wrote them before (one instance a row)."""
    return [
        Site(
            external_id=f"orm-{row.external_id}",
            source=SiteSource.UPLOAD,
            source_vintage=upload.source_name[:64],
            upload=upload,
            withdrawn=False,
            **uploads._site_values(row),
        )
        for row in plan.sites.itertuples(index=False)
    ]


@pytest.mark.parametrize(
    "name, sheet",
    [
        ("sample_polygons_lambert93.gpkg", None),
        ("sample_points_semicolon_latin1.csv", None),
        ("sample_pl_elektrownie.ods", None),
        ("sites_template.csv", None),
    ],
)
def test_it_writes_what_the_orm_writes(boundaries, name, sheet):
    data = (SAMPLES / name).read_bytes()
    dry = uploads.sites_import(
        data=data,
        file_name=name,
        source_name="Bulk",
        dry_run=True,
        only_valid=True,
        on_reference_match="separate",
        sheet=sheet,
    )
    plan = dry.plan
    upload = SiteUpload.objects.create(status=SiteUpload.Status.IMPORTED, source_name="Bulk", file_name=name)
    created = uploads._insert_sites(plan.sites[plan.sites["action"] == "create"], upload)
    assert created == len(plan.sites) > 0
    Site.objects.bulk_create(_orm_rows(plan, upload))
    fast = {s.external_id: s for s in Site.objects.filter(upload=upload).exclude(external_id__startswith="orm-")}
    orm = {s.external_id[4:]: s for s in Site.objects.filter(upload=upload, external_id__startswith="orm-")}
    assert fast.keys() == orm.keys() and len(fast) == created
    for external_id, site in fast.items():
        expected = model_to_dict(orm[external_id], exclude=["id", "external_id"])
        assert model_to_dict(site, exclude=["id", "external_id"]) == expected, external_id
    assert any(s.geometry_geojson for s in fast.values()) or not name.endswith(".gpkg")
