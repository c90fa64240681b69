"""The OpenAPI 3.1 description of the dashboard API (``siting/dashboard/api.py``), built in code.

Kept beside the views it documents; a test checks every documented path resolves to a view
and every API view is documented.
"""

from __future__ import annotations

from typing import Any

from siting.dashboard.selectors import (
    EXPORT_COLUMNS,
    MAP_CODED,
    MAP_COLUMNS,
    MAP_DIGITS,
    MAP_PARTS,
    MAP_SITE_COLUMNS,
    ORDERINGS,
)
from siting.scoring import EXCLUSIONS
from siting.scoring.criteria import CRITERION_NAMES


def _param(
    name: str, description: str, schema: dict[str, Any], *, where: str = "query", required: bool = False
) -> dict:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


_CODE = _param("code", "Run code (UUID).", {"type": "string", "format": "uuid"}, where="path", required=True)
_SIZE = _param("size", "Cluster size [H100e]; one of the run's sizes (default: the smallest).", {"type": "integer"})
_WEIGHTS = [
    _param(
        f"w_{name}",
        f"Weight of the {name} criterion (≥ 0; missing ones keep the run's weight; normalised to sum 1).",
        {"type": "number", "minimum": 0},
    )
    for name in CRITERION_NAMES
]
_FILTERS = [
    _param("country", "ISO 3166-1 alpha-2 codes, repeated or comma-separated.", {"type": "string"}),
    _param("region", "INSEE region codes (France).", {"type": "string"}),
    _param("departement", "Département codes (France).", {"type": "string"}),
    _param("former_use", "Former uses (e.g. coal_plant, steel), repeated or comma-separated.", {"type": "string"}),
    _param("min_score", "Minimum score [0–100].", {"type": "number", "minimum": 0, "maximum": 100}),
    _param("max_time_to_power_months", "Maximum time to power [month].", {"type": "number", "exclusiveMinimum": 0}),
    _param("hide_polluted", "1: hide sites with confirmed pollution.", {"type": "integer", "enum": [0, 1]}),
    _param("hide_flood_zone", "1: hide sites in a flood zone.", {"type": "integer", "enum": [0, 1]}),
    _param(
        "include_excluded",
        "1: include sites excluded at this size (no score, no rank).",
        {"type": "integer", "enum": [0, 1]},
    ),
]
_ERRORS = {
    "400": {
        "description": "A parameter is wrong; `error` names it.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "401": {
        "description": "Not logged in.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
    "403": {
        "description": "Logged in without a role.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
}


def _get(summary: str, params: list[dict], response: dict[str, Any], *, tag: str, description: str = "") -> dict:
    return {
        "get": {
            "summary": summary,
            "description": description,
            "tags": [tag],
            "parameters": params,
            "responses": {"200": response, **_ERRORS},
        }
    }


def _json(ref_or_schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref_or_schema}}}


def schema(server_url: str = "/") -> dict[str, Any]:
    """Return the OpenAPI document."""
    number_or_null = {"type": ["number", "null"]}
    ranked_site: dict[str, Any] = {"type": "object", "properties": {c: {} for c in EXPORT_COLUMNS}}
    for c in (
        "score",
        "rank",
        "tco_eur_per_gpu_hour",
        "capex_total_meur",
        "time_to_power_months",
        "emissions_t_per_yr",
        "site_cost_eur_per_gpu_hour",
        "grid_months",
        "site_months",
        "permit_months",
        "rezoning_months",
        "remediation_months",
        "demolition_months",
        "remediation_capex_meur",
        "connection_cost_meur",
        "delay_cost_meur",
    ):
        ranked_site["properties"][c] = number_or_null
    props = ranked_site["properties"]
    props["rank"] = {
        **number_or_null,
        "description": "Rank at this size; equal scores (to 0.01) share a rank: 1, 1, 3.",
    }
    props["rank_shared"] = {"type": "boolean", "description": 'Another site holds the same rank (shown as "=3").'}
    props["site_cost_eur_per_gpu_hour"] = {
        **number_or_null,
        "description": ("Site cost per GPU-hour without the IT hardware: the cost criterion. [EUR/GPU-h]"),
    }
    props["tco_eur_per_gpu_hour"] = {
        **number_or_null,
        "description": "Full cost per GPU-hour, IT hardware included. [EUR/GPU-h]",
    }
    props["time_to_power_months"] = {**number_or_null, "description": "max(grid_months, site_months). [month]"}
    props["delay_cost_meur"] = {
        **number_or_null,
        "description": ("Cost of delay of the chosen connection: months × capex × discount rate / 12. [M€]"),
    }
    for c in (
        "may_be_unavailable",
        "readiness_estimated",
        "own_connection_estimated",
        "headroom_estimated",
        "feasible",
    ):
        props[c] = {"type": "boolean"}
    props["connection_kind"] = {"type": "string", "enum": ["own", "new_line", "cut_in", "none", ""]}
    props["headroom_source"] = {"type": "string", "enum": ["known", "estimated", "default"]}
    props["exclusion_reasons"] = {
        "type": "string",
        "description": "Codes joined by ';': " + ", ".join(EXCLUSIONS.values()) + ".",
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gigasite API",
            "version": "1.0",
            "description": (
                "Ranked former industrial sites for AI clusters (1k–100k H100e). Log in through the web page "
                "(session cookie); every endpoint needs a role (planner, analyst, official or admin). Units are in "
                "the field names; coordinates are WGS84 longitude/latitude in degrees."
            ),
        },
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "sessionid"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
                "Run": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "format": "uuid"},
                        "scenario_name": {"type": "string"},
                        "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
                        "progress_pct": {"type": "number"},
                        "draws": {"type": "integer"},
                        "sizes_h100e": {"type": "array", "items": {"type": "integer"}},
                        "n_sites": {"type": "integer"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "finished_at": {"type": ["string", "null"], "format": "date-time"},
                        "url": {"type": "string"},
                        "map_url": {"type": "string"},
                    },
                },
                "RankedSite": ranked_site,
            },
        },
        "security": [{"session": []}],
        "paths": {
            "/api/runs/": _get(
                "List runs",
                [
                    _param("status", "Only runs with this status.", {"type": "string"}),
                    _param("limit", "At most this many (≤ 200).", {"type": "integer"}),
                ],
                _json(
                    {
                        "type": "object",
                        "properties": {"runs": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}},
                    }
                ),
                tag="runs",
            ),
            "/api/runs/{code}/": _get(
                "One run: parameters (with sources), criteria, data vintage and per-size summary",
                [_CODE],
                _json({"$ref": "#/components/schemas/Run"}),
                tag="runs",
            ),
            "/api/runs/{code}/sites/": _get(
                "Ranked sites at one size, filtered and optionally re-weighted",
                [
                    _CODE,
                    _SIZE,
                    *_FILTERS,
                    *_WEIGHTS,
                    _param("order", "Sort key.", {"type": "string", "enum": list(ORDERINGS)}),
                    _param("page", "Page, from 1.", {"type": "integer", "minimum": 1}),
                    _param(
                        "page_size",
                        "Rows per page for JSON (default 100, ≤ 1000); CSV and GeoJSON return every row.",
                        {"type": "integer"},
                    ),
                    _param(
                        "format",
                        "json (default), geojson or csv.",
                        {"type": "string", "enum": ["json", "geojson", "csv"]},
                    ),
                ],
                {
                    "description": "OK",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "total": {"type": "integer"},
                                    "page": {"type": "integer"},
                                    "page_size": {"type": "integer"},
                                    "sites": {"type": "array", "items": {"$ref": "#/components/schemas/RankedSite"}},
                                },
                            }
                        },
                        "application/geo+json": {"schema": {"type": "object"}},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                tag="sites",
            ),
            "/api/runs/{code}/map-data/": _get(
                "Every site at one size as columns (the map's data)",
                [
                    _CODE,
                    _SIZE,
                    _param(
                        "part",
                        "`all` (default): every column; `size`: only those that change with the size, with "
                        "site_id (the others are in map-sites).",
                        {"type": "string", "enum": list(MAP_PARTS), "default": "all"},
                    ),
                ],
                _json(
                    {
                        "type": "object",
                        "properties": {
                            "run": {"type": "string"},
                            "size_h100e": {"type": "integer"},
                            "part": {"type": "string", "enum": list(MAP_PARTS)},
                            "known_headroom": {
                                "type": "object",
                                "description": "Grid point id → provenance of its known (uploaded) headroom.",
                            },
                            "columns": {
                                "type": "object",
                                "description": (
                                    "One array per column, every site in rank order. Numbers are rounded to what "
                                    "the map shows, decimals: "
                                    + ", ".join(f"{name} {digits}" for name, digits in MAP_DIGITS.items())
                                    + " (a score that would round up onto a whole number is sent 0.0005 below "
                                    "it; times to power are rounded up: a filter at a whole number keeps the "
                                    "sites the server's keeps). The columns listed in codes hold indices into "
                                    "their code table; null is no value."
                                ),
                                "properties": {c: {"type": "array"} for c in MAP_COLUMNS},
                            },
                            "codes": {
                                "type": "object",
                                "description": (
                                    "Code table of each coded column: its distinct values; the column's value "
                                    "k stands for codes[column][k]."
                                ),
                                "properties": {c: {"type": "array"} for c in MAP_CODED},
                            },
                        },
                    }
                ),
                tag="sites",
            ),
            "/api/runs/{code}/map-sites/": _get(
                "Every site of the run as columns that are the same at every size (read once by the map)",
                [_CODE],
                _json(
                    {
                        "type": "object",
                        "properties": {
                            "run": {"type": "string"},
                            "columns": {
                                "type": "object",
                                "description": (
                                    "One array per column, every present site the run scored in site id order; "
                                    "coded and rounded as in map-data."
                                ),
                                "properties": {c: {"type": "array"} for c in MAP_SITE_COLUMNS},
                            },
                            "codes": {
                                "type": "object",
                                "properties": {c: {"type": "array"} for c in MAP_CODED if c in MAP_SITE_COLUMNS},
                            },
                        },
                    }
                ),
                tag="sites",
            ),
            "/api/runs/{code}/reweight/": _get(
                "Scores and ranks at one size under new criterion weights, without a job",
                [_CODE, _SIZE, *_WEIGHTS],
                _json(
                    {
                        "type": "object",
                        "properties": {
                            "site_id": {"type": "array", "items": {"type": "integer"}},
                            "score": {"type": "array", "items": number_or_null},
                            "rank": {"type": "array", "items": number_or_null},
                            "elapsed_ms": {"type": "number"},
                        },
                    }
                ),
                tag="sites",
                description="Server time is also in the Server-Timing header.",
            ),
            "/api/sites/{site_id}/": _get(
                "One site; with `run` its results, ladder, score breakdown and connection options",
                [
                    _param("site_id", "Site id.", {"type": "integer"}, where="path", required=True),
                    _param("run", "Run code (UUID).", {"type": "string", "format": "uuid"}),
                    _SIZE,
                ],
                _json({"type": "object"}),
                tag="sites",
            ),
            "/api/grid/points/": _get(
                "In-service grid points with a known voltage, as columns",
                [],
                _json({"type": "object"}),
                tag="reference",
            ),
            "/api/zones/": _get(
                "Carbon intensity, price and cooling degree days by country",
                [],
                _json({"type": "object"}),
                tag="reference",
            ),
            "/api/boundaries/{kind}/": _get(
                "Shipped outlines as GeoJSON",
                [
                    _param(
                        "kind",
                        "country, region or departement.",
                        {"type": "string", "enum": ["country", "region", "departement"]},
                        where="path",
                        required=True,
                    )
                ],
                {"description": "OK", "content": {"application/geo+json": {"schema": {"type": "object"}}}},
                tag="reference",
            ),
            **_portfolio_paths(),
        },
    }


def _portfolio_paths() -> dict[str, Any]:
    """Return the portfolio endpoints (``siting.portfolio``): planners, officials and admins, each portfolio its owner's."""
    number_or_null = {"type": ["number", "null"]}
    totals = {
        "type": ["object", "null"],
        "description": "Totals of the chosen sites.",
        "properties": {
            "n_sites": {"type": "integer"},
            "gpus_h100e": {"type": "integer"},
            "it_load_mw": {**number_or_null, "description": "[MW]"},
            "facility_load_mw": {**number_or_null, "description": "[MW]"},
            "capex_total_meur": {**number_or_null, "description": "[M€]"},
            "tco_eur_per_gpu_hour": {**number_or_null, "description": "GPU-weighted full cost of compute. [EUR/GPU-h]"},
            "emissions_t_per_yr": {**number_or_null, "description": "[tCO2e/yr]"},
            "time_to_power_months": {**number_or_null, "description": "The last site's time to power. [month]"},
            "score_total": number_or_null,
            "objective": number_or_null,
        },
    }
    summary: dict[str, Any] = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "format": "uuid"},
            "name": {"type": "string"},
            "run": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["queued", "running", "succeeded", "failed"]},
            "progress_pct": {"type": "number"},
            "stage": {"type": "string"},
            "feasible": {
                "type": ["boolean", "null"],
                "description": "Whether a portfolio meets the target (null until solved).",
            },
            "created_at": {"type": "string", "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "totals": totals,
            "url": {"type": "string"},
            "page_url": {"type": "string"},
        },
    }
    detail = {
        "type": "object",
        "properties": {
            **summary["properties"],
            "problem": {
                "type": "object",
                "description": (
                    "The question: target_mw_it or clusters [[size_h100e, count]], sizes_h100e, max_sites, deadline_months, "
                    "countries, max_per_country, max_per_region, min_distance_km, share_headroom, include, exclude, "
                    "objective (score, cost, emissions), mip_rel_gap, time_limit_s, robustness_draws."
                ),
            },
            "result": {
                "type": "object",
                "description": (
                    "feasible; chosen (one object per site: site_id, site_name, size_h100e, it_load_mw, score, capex_total_meur, "
                    "tco_eur_per_gpu_hour, emissions_t_per_yr, time_to_power_months, connection_point_id, resource, ...); "
                    "totals; solver (status, mip_gap, dual_bound, solve_s, n_variables, n_constraints); greedy (the baseline's "
                    "objective and totals); shared_points; alternatives (per chosen site id, the next best or null); "
                    "robustness (draws, p_meets_target, p_site_ok, responsible); explanation (binding constraint families, "
                    "facts, message) when no portfolio meets the target."
                ),
            },
            "error": {"type": "string"},
        },
    }
    code = _param("code", "Portfolio code (UUID).", {"type": "string", "format": "uuid"}, where="path", required=True)
    return {
        "/api/portfolios/": _get(
            "The caller's portfolios, newest first (an admin's: all)",
            [_param("limit", "At most this many (≤ 200).", {"type": "integer"})],
            _json({"type": "object", "properties": {"portfolios": {"type": "array", "items": summary}}}),
            tag="portfolios",
            description="Planners, officials and admins. Ask a portfolio on its page or with the `portfolio` command.",
        ),
        "/api/portfolios/{code}/": _get(
            "One portfolio: its question, chosen sites, totals, solver status and gap, greedy baseline and robustness",
            [code],
            _json(detail),
            tag="portfolios",
            description="Its owner or an admin; another user gets 403.",
        ),
    }
