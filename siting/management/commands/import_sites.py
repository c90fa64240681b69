"""Import a file of candidate sites (GeoJSON, GeoPackage, zipped Shapefile, CSV, XLSX or ODS)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from siting.importers.sites import RowError, SheetChoiceNeeded, UploadRejected
from siting.management.upload_files import upload_file_path, uploader
from siting.models import SiteUpload
from siting.uploads import services as uploads

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Import candidate sites from FILE through the same checks as the web upload. All or nothing by "
        "default; --only-valid imports the valid rows. --dry-run checks and reports without saving."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="GeoJSON, GeoPackage (.gpkg), zipped Shapefile (.zip), CSV, XLSX or ODS file.")
        parser.add_argument("--source", help="Source name; namespaces the external ids (default: the file name).")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; save nothing.")
        parser.add_argument(
            "--only-valid", action="store_true", help="Import the valid rows even if others are rejected."
        )
        parser.add_argument(
            "--on-duplicate",
            choices=SiteUpload.OnDuplicate.values,
            default=SiteUpload.OnDuplicate.ERROR,
            help="Rows whose id this source already imported: error (default), update or skip.",
        )
        parser.add_argument("--user", help="Username recorded as the uploader.")
        parser.add_argument("--crs", help="EPSG code of the coordinates when the file states none, e.g. EPSG:2154.")
        parser.add_argument("--area-unit", choices=["ha", "m2"], help="Unit of an area column whose name states none.")
        parser.add_argument(
            "--errors-csv", help="Write the full error report (row, field, value, reason) to this CSV file."
        )
        parser.add_argument("--sheet", help="The sheet to read in a workbook (XLSX, ODS) of several.")
        parser.add_argument(
            "--on-reference-match",
            choices=uploads.ON_REFERENCE_MATCH,
            default="error",
            help="New rows within 500 m of a reference site (MODEL.md §1b): update that site, keep them as "
            "separate sites, or reject them (default).",
        )

    def handle(self, *args, **opts) -> None:
        path = upload_file_path(opts["file"])
        user = uploader(opts["user"])
        try:
            result = uploads.sites_import(
                data=path.read_bytes(),
                file_name=path.name,
                source_name=opts["source"] or path.stem,
                user=user,
                on_duplicate=opts["on_duplicate"],
                only_valid=opts["only_valid"],
                dry_run=opts["dry_run"],
                crs=opts["crs"],
                area_unit=opts["area_unit"],
                sheet=opts["sheet"],
                on_reference_match=opts["on_reference_match"],
            )
        except SheetChoiceNeeded as exc:
            raise CommandError(f"{path.name}: {exc} Give it with --sheet.") from exc
        except UploadRejected as exc:
            rejected = getattr(exc, "result", None)
            if rejected is not None:
                self._report(rejected.parsed.notes, rejected.errors, opts["errors_csv"])
            raise CommandError(f"{path.name}: {exc}") from exc
        self._report(result.parsed.notes, result.errors, opts["errors_csv"])
        parsed = result.parsed
        verb = "Would import" if result.dry_run else "Imported"
        self.stdout.write(
            f"{path.name}: {parsed.rows_read:,} rows read ({parsed.file_format}, {parsed.crs}), "
            f"{result.plan.rows_rejected:,} rejected."
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb}: {result.created:,} new, {result.updated:,} updated, {result.skipped:,} skipped, "
                f"{result.merged:,} reference sites updated"
                + (f" (upload {result.upload.code})" if result.upload else " (dry run: nothing saved)")
            )
        )

    def _report(self, notes: list[str], errors: list[RowError], errors_csv: str | None) -> None:
        for note in notes:
            self.stdout.write(f"note: {note}")
        if errors:
            self.stdout.write(self.style.WARNING(f"{len(errors):,} error(s):"))
            self.stdout.write(f"{'row':>7}  {'field':<18} {'value':<24} reason")
            for e in errors[:SHOWN_ERRORS]:
                self.stdout.write(f"{e.row:>7}  {e.field:<18} {e.value[:24]:<24} {e.reason}")
            if len(errors) > SHOWN_ERRORS:
                self.stdout.write(
                    f"… and {len(errors) - SHOWN_ERRORS:,} more" + ("" if errors_csv else " (see --errors-csv)")
                )
        if errors_csv:
            Path(errors_csv).write_text(uploads.errors_csv(errors), encoding="utf-8")
            self.stdout.write(f"Error report: {errors_csv} ({len(errors):,} rows)")
