"""Portfolios in the database: start, execute (in a worker or here), recover, read.

The lifecycle lives on the ``Portfolio`` row, each transition a conditional UPDATE as for
runs and comparisons (``siting.runs.services``, ``siting.reports.services``):

- ``portfolio_start``: a queued row; its task is published after the commit.
- ``portfolio_execute``: claims queued → running, solves, checks robustness, stores the
  result → succeeded (an infeasible target too, with its explanation) or failed with the
  reason. A redelivered message does nothing twice.
- ``portfolio_produce``: the same in this process (the command, the bench, tests).
- ``portfolio_recover``: re-publishes a row the broker never got, re-queues a stalled one.

Who may see a portfolio: its owner or an admin (``roles.may_manage``), planners and officials.
"""

from __future__ import annotations

import logging
import math
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from siting import accounts, queue
from siting.dashboard import selectors as dashboard
from siting.models import Portfolio, ScoringRun, Site
from siting.runs import selectors as run_selectors
from siting.scoring.params import ScenarioParams

from .problem import PortfolioProblem, ProblemError
from .robustness import portfolio_robustness
from .solver import PortfolioSolution, solve

log = logging.getLogger(__name__)

STALE_AFTER_S = 600.0
"""A portfolio still solving after this long is taken as lost (worker crashed). [s]"""
REDISPATCH_AFTER_S = 10.0
"""A queued portfolio whose message never reached the broker is published again after this. [s]"""
MAX_ATTEMPTS = 3
"""Tries per portfolio before it is failed with the reason."""
MAX_ROBUSTNESS_DRAWS = 1000
"""Most Monte Carlo draws the robustness check uses (the run's count, up to this)."""
VIEW_ROLES = (accounts.PLANNER, accounts.OFFICIAL)
"""Roles that work with portfolios (admins hold every role)."""

RESULT_COLUMNS = (
    "site_id",
    "size_h100e",
    "it_load_mw",
    "facility_load_mw",
    "score",
    "rank",
    "capex_total_meur",
    "tco_eur_per_gpu_hour",
    "site_cost_eur_per_gpu_hour",
    "emissions_t_per_yr",
    "time_to_power_months",
    "connection_kind",
    "connection_point_id",
    "connection_line_id",
    "connection_voltage_kv",
    "connection_longitude",
    "connection_latitude",
    "headroom_mw",
    "headroom_source",
    "resource",
    "longitude",
    "latitude",
    "country",
    "region",
    "mc_p_feasible",
)
"""Columns of each chosen site kept in ``Portfolio.result``."""


def may_view(user) -> bool:
    """Tell whether ``user`` works with portfolios (planner, official or admin; None is the command line)."""
    return user is None or accounts.has_role(user, *VIEW_ROLES)


def portfolio_table(run: ScoringRun) -> pd.DataFrame:
    """Return a finished run's rows at every size with each site's position, country and region.

    Sites withdrawn since the run, or deleted, are left out: a portfolio never picks them.
    """
    table = run_selectors.run_table(run)
    if table.empty:
        raise ProblemError("run: it has no results")
    ids = table["site_id"].unique().tolist()
    sites = pd.DataFrame.from_records(
        list(
            Site.objects.filter(id__in=ids, withdrawn=False).values_list(
                "id", "name", "longitude", "latitude", "country", "region_code"
            )
        ),
        columns=["site_id", "site_name", "longitude", "latitude", "country", "region"],
    )
    return table.merge(sites, on="site_id", how="inner")


def _clean(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def solution_dict(solution: PortfolioSolution, names: dict[int, str] | None = None) -> dict[str, Any]:
    """Return a solution as JSON types for ``Portfolio.result``."""
    names = names or {}
    chosen = []
    for _, row in solution.chosen.iterrows():
        item = {c: _clean(row[c]) for c in RESULT_COLUMNS if c in row.index}
        item["site_name"] = names.get(int(row["site_id"]), f"#{int(row['site_id'])}")
        chosen.append(item)
    alternatives = {}
    for site, alt in solution.alternatives.items():
        if alt is not None:
            alt = {k: _clean(v) for k, v in alt.items()}
            alt["site_name"] = names.get(alt["site_id"], f"#{alt['site_id']}")
        alternatives[str(site)] = alt
    solver = None
    if solution.solver is not None:
        solver = {k: _clean(v) for k, v in vars(solution.solver).items()}
    return {
        "feasible": solution.feasible,
        "description": solution.problem.describe(),
        "chosen": chosen,
        "totals": {k: _clean(v) for k, v in solution.totals.items()},
        "solver": solver,
        "greedy": {
            k: (_clean(v) if not isinstance(v, dict) else {kk: _clean(vv) for kk, vv in v.items()})
            for k, v in solution.greedy.items()
        },
        "explanation": vars(solution.explanation) if solution.explanation is not None else None,
        "pool_size": solution.pool_size,
        "removed": solution.removed,
        "shared_points": solution.shared_points,
        "alternatives": alternatives,
    }


# --- start -------------------------------------------------------------------------------------


def portfolio_start(
    *,
    run: ScoringRun,
    problem: PortfolioProblem,
    name: str = "",
    user=None,
    dispatch: bool = True,
) -> Portfolio:
    """Create a queued portfolio on a succeeded run and publish its task once the transaction commits.

    Raises ProblemError for a run that has not succeeded or a malformed problem, and
    PermissionDenied for a user without a planner or official role.
    """

    if not may_view(user):
        raise PermissionDenied
    problem.validate()
    if run.status != ScoringRun.Status.SUCCEEDED:
        raise ProblemError(f"run: {run.code} has status {run.status}; a portfolio needs a succeeded run")
    if problem.clusters:
        sizes = set(int(s) for s in run.params.get("sizes", []))
        absent = [s for s, _ in problem.clusters if s not in sizes]
        if absent:
            raise ProblemError(
                f"clusters: size(s) {', '.join(f'{s:,}' for s in absent)} H100e are not on this run's "
                f"ladder ({', '.join(f'{s:,}' for s in sorted(sizes))})"
            )
    with transaction.atomic():
        portfolio = Portfolio.objects.create(
            name=(name or problem.describe())[:150],
            run=run,
            problem=problem.to_dict(),
            stage="queued",
            created_by=user if user is not None and user.is_authenticated else None,
        )
        if dispatch:
            transaction.on_commit(lambda: portfolio_dispatch(portfolio_id=portfolio.id))
    portfolio.refresh_from_db()
    return portfolio


def portfolio_dispatch(*, portfolio_id: int) -> bool:
    """Publish the task of a queued portfolio; return False if the broker refused."""
    if not queue.task_publish(queue.PORTFOLIO_EXECUTE, portfolio_id, what=f"Portfolio {portfolio_id}"):
        Portfolio.objects.filter(id=portfolio_id, status=Portfolio.Status.QUEUED).update(
            stage="waiting for the job queue (broker unreachable)"
        )
        return False
    Portfolio.objects.filter(id=portfolio_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return True


# --- execute -----------------------------------------------------------------------------------


def portfolio_compute(*, run: ScoringRun, problem: PortfolioProblem, progress=None) -> dict[str, Any]:
    """Return the result of ``problem`` on ``run`` as stored on a Portfolio (solve, then robustness)."""

    report = progress or (lambda share, stage: None)
    report(0.02, "reading the run")
    table = portfolio_table(run)
    solution = solve(table, problem, progress=lambda share, stage: report(0.05 + 0.45 * share, stage))
    ids = set(solution.chosen["site_id"].astype(int).tolist())
    ids |= {a["site_id"] for a in solution.alternatives.values() if a}
    names = dict(Site.objects.filter(id__in=ids).values_list("id", "name"))
    result = solution_dict(solution, names)
    draws = min(run.draws if problem.robustness_draws is None else problem.robustness_draws, MAX_ROBUSTNESS_DRAWS)
    result["robustness"] = None
    if solution.feasible and draws > 0:
        inputs = dashboard.run_scoring_inputs(run)
        if inputs is not None:
            report(0.55, "robustness over the Monte Carlo draws")
            rob = portfolio_robustness(
                inputs,
                ScenarioParams.from_dict(run.params),
                solution.chosen,
                problem,
                draws=draws,
                progress=lambda share: report(0.55 + 0.43 * share, "robustness over the Monte Carlo draws"),
            )
            result["robustness"] = rob.to_dict()
            names.update(Site.objects.filter(id__in=[r["site_id"] for r in rob.responsible]).values_list("id", "name"))
            for r in result["robustness"]["responsible"]:
                r["site_name"] = names.get(r["site_id"], f"#{r['site_id']}")
    return result


def portfolio_execute(*, portfolio_id: int) -> None:
    """Claim a queued portfolio, solve it and store the result (or the reason it failed)."""
    now = timezone.now()
    claimed = Portfolio.objects.filter(id=portfolio_id, status=Portfolio.Status.QUEUED).update(
        status=Portfolio.Status.RUNNING,
        started_at=now,
        attempts=F("attempts") + 1,
        stage="reading the run",
        progress_pct=1.0,
    )
    if claimed != 1:
        return  # already claimed or finished: a redelivered message does nothing
    portfolio = Portfolio.objects.select_related("run").get(id=portfolio_id)

    def progress(share: float, stage: str) -> None:
        Portfolio.objects.filter(id=portfolio_id, status=Portfolio.Status.RUNNING).update(
            progress_pct=round(min(max(100.0 * share, 0.0), 100.0), 1), stage=stage[:100]
        )

    try:
        problem = PortfolioProblem.from_dict(portfolio.problem)
        result = portfolio_compute(run=portfolio.run, problem=problem, progress=progress)
    except Exception as exc:
        if not isinstance(exc, ProblemError):
            log.exception("Portfolio %s failed", portfolio_id)
        Portfolio.objects.filter(id=portfolio_id, status=Portfolio.Status.RUNNING).update(
            status=Portfolio.Status.FAILED, error=str(exc)[:4000], stage="failed", finished_at=timezone.now()
        )
        return
    Portfolio.objects.filter(id=portfolio_id, status=Portfolio.Status.RUNNING).update(
        status=Portfolio.Status.SUCCEEDED,
        result=result,
        feasible=bool(result["feasible"]),
        progress_pct=100.0,
        stage="done",
        finished_at=timezone.now(),
    )


def portfolio_produce(*, run: ScoringRun, problem: PortfolioProblem, name: str = "", user=None) -> Portfolio:
    """Return a finished portfolio, solved in this process (the command line, the bench, tests)."""
    portfolio = portfolio_start(run=run, problem=problem, name=name, user=user, dispatch=False)
    portfolio_execute(portfolio_id=portfolio.id)
    portfolio.refresh_from_db()
    return portfolio


def portfolio_recover(*, portfolio: Portfolio, dispatch: bool = True) -> Portfolio:
    """Give a stalled portfolio another chance; return it now stands.

    - queued and never published (broker down): publish it again;
    - running with no news for ``STALE_AFTER_S`` (its worker died): back to queued and
      published, or failed with the reason after ``MAX_ATTEMPTS``.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=STALE_AFTER_S)
    if portfolio.status == Portfolio.Status.RUNNING and portfolio.started_at and portfolio.started_at < stale:
        if portfolio.attempts >= MAX_ATTEMPTS:
            Portfolio.objects.filter(id=portfolio.id, status=Portfolio.Status.RUNNING, started_at__lt=stale).update(
                status=Portfolio.Status.FAILED,
                stage="failed",
                finished_at=now,
                error=f"The worker solving this portfolio stopped {portfolio.attempts} times.",
            )
        elif (
            Portfolio.objects.filter(id=portfolio.id, status=Portfolio.Status.RUNNING, started_at__lt=stale).update(
                status=Portfolio.Status.QUEUED, stage="retrying after a lost worker", dispatched_at=None
            )
            and dispatch
        ):
            portfolio_dispatch(portfolio_id=portfolio.id)
    elif (
        dispatch
        and portfolio.status == Portfolio.Status.QUEUED
        and portfolio.dispatched_at is None
        and portfolio.created_at < now - timedelta(seconds=REDISPATCH_AFTER_S)
    ):
        portfolio_dispatch(portfolio_id=portfolio.id)
    portfolio.refresh_from_db()
    return portfolio


def portfolio_stuck_without_broker(*, portfolio: Portfolio) -> bool:
    """Tell whether a queued portfolio has waited for the broker longer than ``REDISPATCH_AFTER_S``."""
    return (
        portfolio.status == Portfolio.Status.QUEUED
        and portfolio.dispatched_at is None
        and portfolio.created_at < timezone.now() - timedelta(seconds=REDISPATCH_AFTER_S)
    )


# --- read --------------------------------------------------------------------------------------


def portfolio_get(*, code, user) -> Portfolio:
    """Return portfolio ``code`` if ``user`` may see it: a planner or official who owns it, or an admin.

    Raises Portfolio.DoesNotExist for an unknown code and PermissionDenied otherwise.
    """

    if not may_view(user):
        raise PermissionDenied
    portfolio = Portfolio.objects.select_related("run", "created_by").get(code=code)
    accounts.require_manage(user, portfolio.created_by_id)
    return portfolio


def portfolio_list(*, user):
    """Return the portfolios ``user`` may see, newest first (their own; an admin sees all)."""
    qs = Portfolio.objects.select_related("run", "created_by").order_by("-created_at")
    if user is not None and not accounts.is_admin(user):
        qs = qs.filter(created_by_id=user.pk)
    return qs
