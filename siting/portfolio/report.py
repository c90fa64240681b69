"""The portfolio section of the officials' PDF comparison, and the document that starts from it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from siting.models import Portfolio
from siting.reports import document as reports
from siting.reports.document import ComparisonError, fmt_number

from .problem import PortfolioProblem


def objective_label(name: str) -> str:
    return {
        "score": _("best total score"),
        "cost": _("least total capital cost"),
        "emissions": _("least emissions"),
    }.get(name, name)


def question_text(problem: PortfolioProblem) -> str:
    """Return the portfolio question in the active language."""
    if problem.clusters:
        parts = [" + ".join(_("%(n)s × %(size)s H100e") % {"n": c, "size": fmt_number(s)} for s, c in problem.clusters)]
    else:
        parts = [_("%(mw)s MW of IT load") % {"mw": fmt_number(problem.target_mw_it)}]
    if problem.max_sites:
        parts.append(_("in at most %(n)s sites") % {"n": problem.max_sites})
    if problem.countries:
        parts.append(_("in %(countries)s") % {"countries": ", ".join(problem.countries)})
    if problem.deadline_months:
        parts.append(_("all powered within %(m)s months") % {"m": fmt_number(problem.deadline_months)})
    if problem.max_per_country:
        parts.append(_("at most %(n)s per country") % {"n": problem.max_per_country})
    if problem.max_per_region:
        parts.append(_("at most %(n)s per region") % {"n": problem.max_per_region})
    if problem.min_distance_km:
        parts.append(_("at least %(km)s km apart") % {"km": fmt_number(problem.min_distance_km)})
    return ", ".join(parts)


def _point_text(site: dict[str, Any]) -> str:
    key = site.get("resource") or ""
    if not key:
        return _("own connection")
    kind, _sep, ident = key.partition(":")
    return (_("line %(id)s (cut-in)") if kind == "line" else _("point %(id)s")) % {"id": ident}


def portfolio_section(portfolio: Portfolio) -> dict[str, Any]:
    """Return the formatted context of the portfolio section (in the active language)."""
    result = portfolio.result or {}
    problem = PortfolioProblem.from_dict(portfolio.problem)
    totals = result.get("totals") or {}
    rob = result.get("robustness") or {}
    ok = rob.get("p_site_ok") or {}
    shared_keys = {p["resource"] for p in result.get("shared_points", []) if p.get("shared")}
    names = {c["site_id"]: c["site_name"] for c in result.get("chosen", [])}
    sites = []
    for c in result.get("chosen", []):
        alt = (result.get("alternatives") or {}).get(str(c["site_id"]))
        sites.append(
            {
                "name": c["site_name"],
                "country": c.get("country", ""),
                "size": fmt_number(c["size_h100e"]),
                "it_mw": fmt_number(c["it_load_mw"], 1),
                "score": fmt_number(c["score"], 1),
                "capex": fmt_number(c["capex_total_meur"]),
                "tco": fmt_number(c["tco_eur_per_gpu_hour"], 2),
                "emissions": fmt_number(c["emissions_t_per_yr"]),
                "months": fmt_number(c["time_to_power_months"]),
                "point": _point_text(c),
                "shared": c.get("resource") in shared_keys,
                "p_ok": fmt_number(100 * ok[str(c["site_id"])], 1) + " %" if str(c["site_id"]) in ok else "—",
                "alternative": (
                    f"{alt['site_name']} ({alt.get('country', '')}, {fmt_number(alt['size_h100e'])} H100e, "
                    + _("score %(s)s") % {"s": fmt_number(alt["score"], 1)}
                    + ")"
                )
                if alt
                else "",
            }
        )
    solver = result.get("solver") or {}
    gap = solver.get("mip_gap")
    solver_text = _(
        "Solved as a mixed-integer program by %(solver)s: status %(status)s, gap %(gap)s %%, "
        "%(vars)s candidates, %(cons)s constraints, %(time)s s."
    ) % {
        "solver": solver.get("solver", ""),
        "status": solver.get("status", ""),
        "gap": fmt_number(100 * gap, 3) if gap is not None else "—",
        "vars": fmt_number(solver.get("n_variables", 0)),
        "cons": fmt_number(solver.get("n_constraints", 0)),
        "time": fmt_number(solver.get("solve_s", 0.0), 2),
    }
    greedy = result.get("greedy") or {}
    if greedy.get("feasible"):
        greedy_text = _(
            "A greedy choice (best site first, keeping every constraint) reaches %(g)s against %(o)s optimised."
        ) % {"g": fmt_number(greedy.get("objective"), 1), "o": fmt_number(totals.get("objective"), 1)}
    else:
        greedy_text = _(
            "A greedy choice (best site first, keeping every constraint) finds no portfolio that meets the target."
        )
    return {
        "name": portfolio.name,
        "question": question_text(problem),
        "objective": objective_label(problem.objective),
        "totals": [
            {"label": _("Sites"), "unit": "", "value": fmt_number(totals.get("n_sites", 0))},
            {"label": _("IT load"), "unit": "MW", "value": fmt_number(totals.get("it_load_mw"), 1)},
            {"label": _("Capex"), "unit": "M€", "value": fmt_number(totals.get("capex_total_meur"))},
            {
                "label": _("Cost of compute"),
                "unit": "EUR/GPU-h",
                "value": fmt_number(totals.get("tco_eur_per_gpu_hour"), 2),
            },
            {"label": _("Emissions"), "unit": "tCO₂e/yr", "value": fmt_number(totals.get("emissions_t_per_yr"))},
            {
                "label": _("All powered in"),
                "unit": _("months"),
                "value": fmt_number(totals.get("time_to_power_months")),
            },
            {
                "label": _("Meets the target"),
                "unit": "%",
                "value": fmt_number(100 * rob["p_meets_target"], 1) if rob else "—",
            },
        ],
        "sites": sites,
        "shared": [
            {
                "point": _point_text(p),
                "sites": ", ".join(names.get(i, f"#{i}") for i in p["site_ids"]),
                "load": fmt_number(p["facility_load_mw"]),
                "headroom": fmt_number(p["headroom_mw"]),
            }
            for p in result.get("shared_points", [])
            if p.get("shared")
        ],
        "robustness": {
            "p": fmt_number(100 * rob["p_meets_target"], 1),
            "draws": fmt_number(rob["draws"]),
            "responsible": [
                {"name": r.get("site_name", f"#{r['site_id']}"), "share": fmt_number(100 * r["share_of_failures"], 0)}
                for r in rob.get("responsible", [])[:3]
            ],
        }
        if rob
        else None,
        "solver": solver_text,
        "greedy": greedy_text,
    }


def comparison_sites(result: dict[str, Any]) -> tuple[int, list[int]]:
    """Return the size the comparison is drawn at (the most common chosen size, the larger on a tie)
    and the sites compared (the chosen ones, at most ``reports.MAX_SITES``, that size first)."""
    chosen = result.get("chosen") or []
    if len(chosen) < reports.MIN_SITES:
        raise ComparisonError(
            _("A comparison needs at least %(n)s sites; this portfolio has %(k)s.")
            % {"n": reports.MIN_SITES, "k": len(chosen)}
        )
    counts = Counter(int(c["size_h100e"]) for c in chosen)
    size = max(counts, key=lambda s: (counts[s], s))
    ordered = sorted(chosen, key=lambda c: (int(c["size_h100e"]) != size, -(c.get("score") or 0.0)))
    return size, [int(c["site_id"]) for c in ordered[: reports.MAX_SITES]]


def portfolio_pdf(*, portfolio: Portfolio, language: str, author: str = "") -> reports.RenderedComparison:
    """Return the officials' comparison of a portfolio's sites, the portfolio section in front."""
    size, site_ids = comparison_sites(portfolio.result or {})
    with translation.override(language):
        section = portfolio_section(portfolio)
    return reports.comparison_pdf(
        run=portfolio.run, size_h100e=size, site_ids=site_ids, language=language, author=author, portfolio=section
    )
