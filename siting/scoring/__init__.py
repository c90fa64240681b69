"""The siting model: score every site for every cluster size (siting model §2–§4, version 2).

Public API (no Django here):

- ``score_sites(sites, grid, zones, params, hourly_carbon=None, lines=None, outlines=None,
  draws=0, impl="kernel")`` returns a :class:`ScoringResult` with one row per (site, size);
  ``score_inputs(inputs, params, ...)`` does the same from a :class:`ScoringInputs`, and
  ``score_draws`` computes one block of Monte Carlo draws of a run.
- ``ScenarioParams`` and ``presets()`` in ``params.py``; criteria in ``criteria.py``.

The engine validates inputs (columns, dtypes, NaN policy), converts units, finds the connection
candidates, allocates the arrays, and calls the numba kernels (``impl="kernel"``) or their NumPy
twins (``impl="reference"``). Runs are split by cluster size: sites of one size are ranked
together, and Monte Carlo draws are seeded by (seed, draw index) only, so scoring a size alone
gives the same numbers as scoring it with the others.

Modules, in the order a scoring goes through them: ``prepare`` (inputs, validation, connection
candidates, caches), ``engine`` (a draw, the kernels' inputs under it, one evaluation),
``montecarlo`` (many draws, rank sketches), ``result`` (``score_sites``, the table, the ladder,
re-weighting); ``kernels`` and ``reference`` (the twins) read ``kernel_inputs`` and ``layout``.
"""

from __future__ import annotations

from .criteria import CRITERIA
from .layout import EXCLUSIONS
from .montecarlo import score_draws
from .params import ScenarioParams, presets
from .prepare import ScoringInputs
from .result import ScoringResult, exclusion_codes, reweight, score_inputs, score_sites, site_ladder, weighted_scores

__all__ = [
    "ScenarioParams",
    "ScoringInputs",
    "ScoringResult",
    "presets",
    "score_sites",
    "score_inputs",
    "score_draws",
    "exclusion_codes",
    "CRITERIA",
    "EXCLUSIONS",
    # Read by the dashboard and the API: the ladder of a stored table and the one re-weighting.
    "site_ladder",
    "weighted_scores",
    "reweight",
]
