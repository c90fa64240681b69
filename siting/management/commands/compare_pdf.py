"""Write the PDF comparison of 2 to 10 sites of a finished run at one cluster size."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from siting.models import ScoringRun
from siting.reports import document as reports
from siting.reports import services as comparisons


class Command(BaseCommand):
    help = (
        "Write the PDF comparison of shortlisted sites: --run ID (number or code) --size N SITE_ID ... --out FILE. "
        "An identical document made before (same run, size, sites, language and author) is served from the cache."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("site_ids", nargs="+", type=int, metavar="SITE_ID", help="2 to 10 site ids.")
        parser.add_argument("--run", required=True, help="The run: its number or its code (UUID).")
        parser.add_argument("--size", required=True, type=int, help="Cluster size in H100e, one of the run's sizes.")
        parser.add_argument("--out", required=True, help="The PDF file to write.")
        parser.add_argument("--lang", choices=reports.LANGUAGES, default="en", help="Language of the document.")
        parser.add_argument("--author", default="", help="Name printed on the cover.")

    def handle(self, *args, **opts) -> None:
        run = self._run(opts["run"])
        started = time.perf_counter()
        try:
            report, cached = comparisons.comparison_produce(
                run=run,
                size_h100e=opts["size"],
                site_ids=opts["site_ids"],
                language=opts["lang"],
                author=opts["author"],
            )
        except reports.ComparisonError as exc:
            raise CommandError(str(exc)) from exc
        if report.status != report.Status.SUCCEEDED:
            raise CommandError(f"The comparison failed: {report.error}")
        out = Path(opts["out"])
        try:
            out.write_bytes(bytes(report.pdf))  # type: ignore[arg-type]
        except OSError as exc:
            raise CommandError(f"--out {out}: {exc.strerror}") from exc
        how = "from the cache" if cached else f"rendered in {report.render_s:.2f} s"
        self.stdout.write(
            f"Wrote {out} ({report.n_pages} pages, {len(report.pdf):,} bytes, {how}; {time.perf_counter() - started:.2f} s in all)"  # type: ignore[arg-type]
        )

    def _run(self, ref: str) -> ScoringRun:
        ref = ref.strip()
        run = ScoringRun.objects.filter(id=int(ref)).first() if ref.isdigit() else None
        if run is None and not ref.isdigit():
            try:
                run = ScoringRun.objects.filter(code=ref).first()
            except Exception:  # not a UUID: Django raises ValidationError
                run = None
        if run is None:
            raise CommandError(f"--run {ref}: no such run.")
        return run
