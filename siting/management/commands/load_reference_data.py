"""Build the reference database from ``fixtures/``: sites, grid, zones, boundaries."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grid.importers import ReferenceDataError
from siting.sites.services import reference_data_load


class Command(BaseCommand):
    help = "Load the real reference data from fixtures/ (idempotent, all or nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--fixtures-dir", type=Path, help="Folder with the reference files (default: fixtures/).")
        parser.add_argument(
            "--current-year", type=int, help="Plants retired before this year count (default: this year)."
        )

    def handle(self, *args, **opts) -> None:
        try:
            report = reference_data_load(fixtures_dir=opts["fixtures_dir"], current_year=opts["current_year"])
        except ReferenceDataError as exc:
            raise CommandError(f"Reference data not loaded, the database is unchanged: {exc}") from exc
        for name, t in report.tables.items():
            total = t.created + t.updated + t.unchanged
            self.stdout.write(
                f"  {name:<16} {total:>7,} rows: {t.created:,} created, {t.updated:,} updated, "
                f"{t.unchanged:,} unchanged, {t.deleted:,} deleted"
            )
        for dataset, notes in report.notes.items():
            details = ", ".join(f"{k} {v:,}" for k, v in notes.items() if v)
            if details:
                self.stdout.write(f"  {dataset}: {details}")
        if report.changed:
            self.stdout.write(self.style.SUCCESS(f"Reference data loaded in {report.seconds:.1f} s."))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Reference data already up to date: nothing changed ({report.seconds:.1f} s).")
            )
