"""What a portfolio question is: a target, a deadline, constraints and an objective.

No Django here. A :class:`PortfolioProblem` is frozen and round-trips through JSON (a
``Portfolio`` row stores it), and :meth:`PortfolioProblem.validate` names the field of any
bad value.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

OBJECTIVES = {
    "score": "the best total score (sum of the chosen sites' scores at their sizes)",
    "cost": "the least total capital cost (capex_total_meur: facility, IT and grid connection) [M€]",
    "emissions": "the least total emissions (emissions_t_per_yr) [tCO2e/yr]",
}
"""Objective name → what it optimises (the user picks one)."""

MAX_CLUSTERS = 100
"""Most clusters one problem may ask for (a bound on the problem's size, not a model constant)."""


class ProblemError(ValueError):
    """A portfolio problem is malformed; the message names the field."""


@dataclass(frozen=True)
class PortfolioProblem:
    """A portfolio question on a finished run.

    Exactly one target: ``target_mw_it`` (total IT load [MW], any sizes of ``sizes_h100e``) or
    ``clusters`` (``((size_h100e, count), ...)``: that many sites, each at exactly that size).
    """

    target_mw_it: float | None = None
    clusters: tuple[tuple[int, int], ...] = ()
    sizes_h100e: tuple[int, ...] = ()
    """Sizes a site may take for an MW target; empty: every size of the run."""
    max_sites: int | None = None
    deadline_months: float | None = None
    """Every chosen site powered within this many months (time_to_power_months ≤ it). [month]"""
    countries: tuple[str, ...] = ()
    """Only sites in these ISO2 countries; empty: every country of the run's scope."""
    max_per_country: int | None = None
    max_per_region: int | None = None
    """At most this many sites per region (region_code where the data has one, else the country)."""
    min_distance_km: float = 0.0
    """Great-circle distance every two chosen sites keep at least. [km]"""
    share_headroom: bool = True
    """Sites on one grid point (or cutting in on one line) share its headroom."""
    include: tuple[int, ...] = ()
    exclude: tuple[int, ...] = ()
    objective: str = "score"
    mip_rel_gap: float = 1e-4
    """Relative gap at which the solver may stop (0.01 %). [-]"""
    time_limit_s: float = 60.0
    robustness_draws: int | None = None
    """Monte Carlo draws for the robustness check; None: the run's draws."""

    def validate(self) -> PortfolioProblem:
        """Return self, or raise ProblemError naming the first bad field."""
        if (self.target_mw_it is None) == (not self.clusters):
            raise ProblemError("target: give either target_mw_it or clusters, not both and not neither")
        if self.target_mw_it is not None and not (math.isfinite(self.target_mw_it) and self.target_mw_it > 0):
            raise ProblemError("target_mw_it: a positive number of MW expected")
        seen = set()
        for size, count in self.clusters:
            if size <= 0 or count <= 0:
                raise ProblemError(f"clusters: size and count must be positive, got {count} × {size}")
            if size in seen:
                raise ProblemError(f"clusters: size {size} is given twice")
            seen.add(size)
        if sum(c for _, c in self.clusters) > MAX_CLUSTERS:
            raise ProblemError(f"clusters: at most {MAX_CLUSTERS} clusters")
        if any(s <= 0 for s in self.sizes_h100e):
            raise ProblemError("sizes_h100e: positive sizes expected")
        for name in ("max_sites", "max_per_country", "max_per_region"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ProblemError(f"{name}: 1 or more (or empty for no limit)")
        if self.deadline_months is not None and not (self.deadline_months > 0):
            raise ProblemError("deadline_months: a positive number of months expected")
        if not (math.isfinite(self.min_distance_km) and self.min_distance_km >= 0):
            raise ProblemError("min_distance_km: 0 or more")
        if self.objective not in OBJECTIVES:
            raise ProblemError(f"objective: one of {', '.join(OBJECTIVES)}")
        both = set(self.include) & set(self.exclude)
        if both:
            raise ProblemError(
                f"include/exclude: site(s) {', '.join(map(str, sorted(both)))} are both forced in and out"
            )
        if not (0 <= self.mip_rel_gap < 1):
            raise ProblemError("mip_rel_gap: in [0, 1)")
        if not (self.time_limit_s > 0):
            raise ProblemError("time_limit_s: positive")
        if self.robustness_draws is not None and not (0 <= self.robustness_draws <= 10_000):
            raise ProblemError("robustness_draws: 0 to 10,000")
        return self

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["clusters"] = [list(c) for c in self.clusters]
        for key in ("sizes_h100e", "countries", "include", "exclude"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PortfolioProblem:
        """Return the problem a dict describes (unknown keys rejected), validated."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ProblemError(f"{unknown[0]}: not a portfolio parameter")
        kwargs = dict(data)
        try:
            if "clusters" in kwargs:
                kwargs["clusters"] = tuple((int(s), int(c)) for s, c in (kwargs["clusters"] or ()))
            for key in ("sizes_h100e", "include", "exclude"):
                if key in kwargs:
                    kwargs[key] = tuple(int(v) for v in (kwargs[key] or ()))
            if "countries" in kwargs:
                kwargs["countries"] = tuple(
                    str(c).strip().upper() for c in (kwargs["countries"] or ()) if str(c).strip()
                )
            for key in ("target_mw_it", "deadline_months"):
                if kwargs.get(key) is not None:
                    kwargs[key] = float(kwargs[key])
            for key in ("max_sites", "max_per_country", "max_per_region", "robustness_draws"):
                if kwargs.get(key) is not None:
                    kwargs[key] = int(kwargs[key])
            for key in ("min_distance_km", "mip_rel_gap", "time_limit_s"):
                if key in kwargs and kwargs[key] is not None:
                    kwargs[key] = float(kwargs[key])
                elif key in kwargs:
                    del kwargs[key]
        except (TypeError, ValueError) as exc:
            raise ProblemError(f"portfolio parameters: {exc}") from exc
        return cls(**kwargs).validate()

    def describe(self) -> str:
        """Return the question in one line (English; pages translate their own labels)."""
        if self.clusters:
            target = " + ".join(f"{c} × {s:,} H100e" for s, c in self.clusters)
        else:
            target = f"{self.target_mw_it:,.0f} MW IT"
        parts = [target]
        if self.max_sites:
            parts.append(f"at most {self.max_sites} sites")
        if self.countries:
            parts.append("in " + ", ".join(self.countries))
        if self.deadline_months:
            parts.append(f"powered within {self.deadline_months:g} months")
        if self.max_per_country:
            parts.append(f"at most {self.max_per_country} per country")
        if self.max_per_region:
            parts.append(f"at most {self.max_per_region} per region")
        if self.min_distance_km:
            parts.append(f"at least {self.min_distance_km:g} km apart")
        return ", ".join(parts)


def parse_clusters(text: str) -> tuple[tuple[int, int], ...]:
    """Return clusters from text like ``"5x100000"`` or ``"2x50000, 1x100k"``."""
    out: dict[int, int] = {}
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip().lower().replace(" ", "").replace("_", "").replace("×", "x")
        if not part:
            continue
        count_text, sep, size_text = part.partition("x")
        if not sep:
            raise ProblemError(f"clusters: {part!r} is not COUNTxSIZE (e.g. 5x100000)")
        mult = 1000 if size_text.endswith("k") else 1
        try:
            count, size = int(count_text), int(size_text.rstrip("k")) * mult
        except ValueError:
            raise ProblemError(f"clusters: {part!r} is not COUNTxSIZE (e.g. 5x100000)") from None
        out[size] = out.get(size, 0) + count
    return tuple(sorted(out.items()))


def parse_sizes(text: str) -> tuple[int, ...]:
    """Return sizes [H100e] from text like ``"100000, 160k"``."""
    return tuple(
        size
        for size, _count in parse_clusters(
            ",".join(f"1x{part.strip()}" for part in (text or "").replace(";", ",").split(",") if part.strip())
        )
    )


__all__ = ["OBJECTIVES", "PortfolioProblem", "ProblemError", "parse_clusters", "parse_sizes"]
