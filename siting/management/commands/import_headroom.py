"""Import known headroom at grid connection points (CSV, XLSX or ODS), or withdraw such an upload."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from grid.models import HeadroomUpload
from siting.importers.sites import UploadRejected
from siting.management.upload_files import upload_file_path, uploader
from siting.uploads.headroom_imports import headroom_import, headroom_upload_withdraw
from siting.uploads.services import upload_limits

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = (
        "Import known withdrawal headroom [MW] at existing grid points, matched by point id or by position "
        "(--match-distance-km). All or nothing. Known values come before any estimate (MODEL.md §2). "
        "--withdraw CODE gives the points of an earlier upload their previous values back."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "file", nargs="?", help="CSV, XLSX or ODS: point id (or longitude/latitude), headroom_mw, date, source."
        )
        parser.add_argument("--source", help="Whose figures (default: the file name).")
        parser.add_argument(
            "--match-distance-km",
            type=float,
            default=0.0,
            help="Match rows without a point id to the nearest point within this distance [km].",
        )
        parser.add_argument("--sheet", help="The sheet of a workbook of several.")
        parser.add_argument("--dry-run", action="store_true", help="Check and report; save nothing.")
        parser.add_argument("--user", help="Username recorded as the uploader.")
        parser.add_argument("--withdraw", metavar="CODE", help="Withdraw the headroom upload with this code.")

    def handle(self, *args, **opts) -> None:
        if opts["withdraw"]:
            upload = HeadroomUpload.objects.filter(code=opts["withdraw"]).first()
            if upload is None:
                raise CommandError(f"No headroom upload {opts['withdraw']}.")
            n = headroom_upload_withdraw(upload=upload, user=None)
            if n is None:
                raise CommandError("That upload is already withdrawn.")
            self.stdout.write(self.style.SUCCESS(f"Withdrawn: {n} point(s) got their previous headroom back."))
            return
        if not opts["file"]:
            raise CommandError("Give a file, or --withdraw CODE.")
        path = upload_file_path(opts["file"])
        user = uploader(opts["user"])
        try:
            result = headroom_import(
                data=path.read_bytes(),
                file_name=path.name,
                source_name=opts["source"] or path.stem,
                user=user,
                match_distance_km=opts["match_distance_km"],
                sheet=opts["sheet"],
                dry_run=opts["dry_run"],
                limits=upload_limits(),
            )
        except UploadRejected as exc:
            plan = getattr(exc, "plan", None)
            if plan is not None:
                for e in plan.errors[:SHOWN_ERRORS]:
                    self.stdout.write(f"{e.row:>7}  {e.field:<12} {e.value[:24]:<24} {e.reason}")
            raise CommandError(f"{path.name}: {exc}") from exc
        values = result.plan.values
        for r in values.itertuples(index=False):
            how = "id" if r.matched_by == "id" else f"position, {r.distance_km:.2f} km"
            self.stdout.write(f"row {r.row}: {r.point_external_id} {r.point_name} ← {r.headroom_mw:,.1f} MW ({how})")
        verb = "Would set" if result.upload is None else "Set"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} known headroom at {len(values):,} point(s)"
                + (f" (upload {result.upload.code})" if result.upload else " (dry run: nothing saved)")
            )
        )
