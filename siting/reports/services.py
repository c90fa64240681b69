"""PDF comparisons of shortlisted sites: request (cached), produce (in a worker or here), recover.

A document is identified by its cache key: run, size, sorted sites, language, author and
the report code version (``reports.report_code_version``). The lifecycle lives on the
``ComparisonReport`` row, each transition a conditional UPDATE as for scoring runs:

- ``comparison_request``: the stored document when one exists; otherwise a queued row
  whose task is published after the commit (a failed or stalled one is queued again).
- ``comparison_execute``: claims queued → running, renders, stores the PDF → succeeded
  (or failed with the reason). A redelivered message does nothing twice.
- ``comparison_produce``: the same in this process, for the command line and the bench.
- ``comparison_recover``: re-publishes a row the broker never got, re-queues a stalled one.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from siting import accounts, frames, queue
from siting.models import ComparisonReport, RunResult, ScoringRun, Site
from siting.reports import document as reports
from siting.reports.document import ComparisonError
from siting.reports.forms import MAX_DB_ID

log = logging.getLogger(__name__)

STALE_AFTER_S = 300.0
"""A document still rendering after this long is taken as lost (worker crashed). [s]"""
REDISPATCH_AFTER_S = 10.0
"""A queued document whose message never reached the broker is published again after this. [s]"""
MAX_ATTEMPTS = 3
"""Renders tried per document before it is failed with the reason."""

__all__ = [
    "ComparisonError",
    "comparison_cache_key",
    "comparison_request",
    "comparison_execute",
    "comparison_produce",
    "comparison_recover",
    "comparison_stuck_without_broker",
    "comparison_candidates",
    "comparison_get",
    "author_name",
]


def author_name(user) -> str:
    """Return the name printed on the cover for ``user`` (full name, else username)."""
    if user is None or not user.is_authenticated:
        return ""
    return (user.get_full_name() or user.get_username()).strip()


def comparison_cache_key(
    *,
    run_id: int,
    size_h100e: int,
    site_ids: tuple[int, ...],
    language: str,
    author: str,
    owner_id: int | None = None,
) -> str:
    """Return the document's identity: a SHA-256 of everything that changes its bytes, and its owner.

    The author is part of it because the cover names them: one official's document is not
    handed to another under the first one's name. The owner (the requesting user's id) is
    part of it because a document is its owner's alone (``roles.may_manage``): two officials
    with the same name each get their own.
    """
    parts = [
        str(run_id),
        str(int(size_h100e)),
        ",".join(str(i) for i in sorted(site_ids)),
        language,
        author,
        reports.report_code_version(),
    ]
    if owner_id is not None:
        parts.append(f"owner={owner_id}")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def comparison_request(
    *,
    run: ScoringRun,
    size_h100e: int,
    site_ids: list[int] | tuple[int, ...],
    language: str,
    user=None,
    author: str | None = None,
    dispatch: bool = True,
) -> ComparisonReport:
    """Return the document for this request: stored, or queued for a worker.

    Raises ComparisonError when the run, size, sites or language cannot be compared.
    Callers read ``report.status``: succeeded means the PDF is there; otherwise the task was
    published after the commit (``dispatched_at`` stays empty when the broker refused).
    ``dispatch=False`` only saves the row, for :func:`comparison_produce`.
    """
    if language not in reports.LANGUAGES:
        raise ComparisonError(f"language: one of {', '.join(reports.LANGUAGES)}")
    if any(not 1 <= int(i) <= MAX_DB_ID for i in site_ids):
        raise ComparisonError(
            _("Unknown site id(s): %(ids)s.")
            % {"ids": ", ".join(str(i) for i in site_ids if not 1 <= int(i) <= MAX_DB_ID)}
        )
    ids = reports.comparison_validate(run=run, size_h100e=size_h100e, site_ids=site_ids)
    author = author_name(user) if author is None else author
    owner_id = user.pk if user is not None and user.is_authenticated else None
    key = comparison_cache_key(
        run_id=run.id, size_h100e=size_h100e, site_ids=ids, language=language, author=author, owner_id=owner_id
    )
    report = ComparisonReport.objects.filter(cache_key=key).first()
    if report is None:
        try:
            with transaction.atomic():
                report = ComparisonReport.objects.create(
                    cache_key=key,
                    run=run,
                    size_h100e=int(size_h100e),
                    site_ids=list(ids),
                    language=language,
                    author_name=author,
                    created_by=user if user is not None and user.is_authenticated else None,
                    stage="queued",
                )
        except IntegrityError:
            report = ComparisonReport.objects.get(cache_key=key)  # an identical request won the race
        else:
            if dispatch:
                transaction.on_commit(lambda: comparison_dispatch(report_id=report.id))  # type: ignore[union-attr]
            return report
    if report.status == ComparisonReport.Status.FAILED:
        # Asked again after a failure: try once more (the cause may be gone).
        if (
            ComparisonReport.objects.filter(id=report.id, status=ComparisonReport.Status.FAILED).update(
                status=ComparisonReport.Status.QUEUED,
                error="",
                stage="queued",
                progress_pct=0.0,
                attempts=0,
                dispatched_at=None,
            )
            and dispatch
        ):
            transaction.on_commit(lambda: comparison_dispatch(report_id=report.id))  # type: ignore[union-attr]
        report.refresh_from_db()
    elif dispatch and report.status != ComparisonReport.Status.SUCCEEDED:
        report = comparison_recover(report=report)
    return report


def comparison_get(*, code, user) -> ComparisonReport:
    """Return the document ``code`` if ``user`` may have it: its requester or an admin.

    Raises ComparisonReport.DoesNotExist for an unknown code and PermissionDenied for
    someone else's document (``roles.may_manage``).
    """
    report = ComparisonReport.objects.select_related("run").get(code=code)
    accounts.require_manage(user, report.created_by_id)
    return report


def comparison_dispatch(*, report_id: int) -> bool:
    """Publish the render task of a queued document; return False if the broker refused."""
    if not queue.task_publish(queue.COMPARISON_EXECUTE, report_id, what=f"Comparison {report_id}"):
        return False
    ComparisonReport.objects.filter(id=report_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return True


def comparison_execute(*, report_id: int) -> None:
    """Claim a queued document, render it and store the PDF (or the reason it failed)."""
    now = timezone.now()
    claimed = ComparisonReport.objects.filter(id=report_id, status=ComparisonReport.Status.QUEUED).update(
        status=ComparisonReport.Status.RUNNING,
        started_at=now,
        attempts=F("attempts") + 1,
        stage="reading the run",
        progress_pct=5.0,
    )
    if claimed != 1:
        return  # already claimed or finished: a redelivered message does nothing
    report = ComparisonReport.objects.select_related("run").get(id=report_id)

    def progress(share: float, stage: str) -> None:
        ComparisonReport.objects.filter(id=report_id, status=ComparisonReport.Status.RUNNING).update(
            progress_pct=round(100.0 * share, 1), stage=stage
        )

    try:
        rendered = reports.comparison_pdf(
            run=report.run,
            size_h100e=report.size_h100e,
            site_ids=report.site_ids,
            language=report.language,
            author=report.author_name,
            generated_at=report.created_at,
            progress=progress,
        )
    except Exception as exc:
        log.exception("Comparison %s failed", report_id)
        ComparisonReport.objects.filter(id=report_id, status=ComparisonReport.Status.RUNNING).update(
            status=ComparisonReport.Status.FAILED, error=str(exc)[:4000], stage="failed", finished_at=timezone.now()
        )
        return
    ComparisonReport.objects.filter(id=report_id, status=ComparisonReport.Status.RUNNING).update(
        status=ComparisonReport.Status.SUCCEEDED,
        pdf=rendered.pdf,
        pdf_sha256=hashlib.sha256(rendered.pdf).hexdigest(),
        n_pages=rendered.n_pages,
        render_s=rendered.render_s,
        progress_pct=100.0,
        stage="done",
        finished_at=timezone.now(),
    )


def comparison_produce(
    *,
    run: ScoringRun,
    size_h100e: int,
    site_ids: list[int] | tuple[int, ...],
    language: str,
    user=None,
    author: str | None = None,
) -> tuple[ComparisonReport, bool]:
    """Return the finished document and whether it came from the cache, rendering here if needed.

    For the command line, the bench and a web request whose broker is down: the same claim
    and store as a worker, in this process.
    """
    report = comparison_request(
        run=run, size_h100e=size_h100e, site_ids=site_ids, language=language, user=user, author=author, dispatch=False
    )
    if report.status == ComparisonReport.Status.SUCCEEDED:
        return report, True
    if report.status == ComparisonReport.Status.RUNNING:
        report = comparison_recover(report=report, dispatch=False)
    comparison_execute(report_id=report.id)
    report.refresh_from_db()
    return report, False


def comparison_recover(*, report: ComparisonReport, dispatch: bool = True) -> ComparisonReport:
    """Give a stalled document another chance; return it now stands.

    - queued and never published (broker down at request): publish it again;
    - running with no news for ``STALE_AFTER_S`` (its worker died): back to queued and
      published, or failed with the reason after ``MAX_ATTEMPTS``.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=STALE_AFTER_S)
    if report.status == ComparisonReport.Status.RUNNING and report.started_at and report.started_at < stale:
        if report.attempts >= MAX_ATTEMPTS:
            ComparisonReport.objects.filter(
                id=report.id, status=ComparisonReport.Status.RUNNING, started_at__lt=stale
            ).update(
                status=ComparisonReport.Status.FAILED,
                stage="failed",
                finished_at=now,
                error=f"The worker rendering this document stopped {report.attempts} times.",
            )
        elif (
            ComparisonReport.objects.filter(
                id=report.id, status=ComparisonReport.Status.RUNNING, started_at__lt=stale
            ).update(status=ComparisonReport.Status.QUEUED, stage="retrying after a lost worker", dispatched_at=None)
            and dispatch
        ):
            comparison_dispatch(report_id=report.id)
    elif (
        dispatch
        and report.status == ComparisonReport.Status.QUEUED
        and report.dispatched_at is None
        and report.created_at < now - timedelta(seconds=REDISPATCH_AFTER_S)
    ):
        comparison_dispatch(report_id=report.id)
    report.refresh_from_db()
    return report


def comparison_stuck_without_broker(*, report: ComparisonReport) -> bool:
    """Tell whether a queued document has waited for the broker longer than ``REDISPATCH_AFTER_S``.

    The pages then render it in the request rather than leave an official waiting on a job
    queue that is down (a few seconds of work; ``comparison_execute`` claims it, so a worker
    that gets the message later does nothing).
    """
    return (
        report.status == ComparisonReport.Status.QUEUED
        and report.dispatched_at is None
        and report.created_at < timezone.now() - timedelta(seconds=REDISPATCH_AFTER_S)
    )


def comparison_candidates(*, run: ScoringRun, size_h100e: int, limit: int = 30) -> pd.DataFrame:
    """Return the run's best sites at one size for the selection page, best first.

    Columns: site_id, site_name, country, rank, score, tco_eur_per_gpu_hour [EUR/GPU-h],
    capex_total_meur [M€], time_to_power_months [month]. Feasible sites only.
    """
    blob = RunResult.objects.filter(run=run, size_h100e=size_h100e).values_list("table", flat=True).first()
    if blob is None:
        raise ComparisonError(f"size: {size_h100e} is not a cluster size of this run")
    columns = {
        "site_id",
        "feasible",
        "rank",
        "score",
        "tco_eur_per_gpu_hour",
        "capex_total_meur",
        "time_to_power_months",
    }
    table = frames.frames_unpack(blob, columns=columns)[0]["table"]
    top = table[table["feasible"].astype(bool)].sort_values(["rank", "site_id"]).head(limit)
    names: dict[int, Any] = {
        i: (name, country)
        for i, name, country in Site.objects.filter(id__in=top["site_id"].tolist()).values_list("id", "name", "country")
    }
    top = top.assign(
        site_name=[names.get(int(i), (f"#{i}", ""))[0] for i in top["site_id"]],
        country=[names.get(int(i), ("", ""))[1] for i in top["site_id"]],
    )
    return top.reset_index(drop=True)
