"""Portfolios: which K sites, together, meet a target by a deadline, at what cost and carbon, and how sure.

- ``problem``: the question (:class:`PortfolioProblem`), validated, JSON round-trip.
- ``solver``: the mixed-integer program (HiGHS via ``scipy.optimize.milp``), the greedy
  baseline, next-best alternatives, and the explanation of an infeasible target. No Django.
- ``robustness``: the chosen sites re-drawn with the engine's own Monte Carlo.
- ``services``: the ``Portfolio`` row's lifecycle (a Celery job with progress), reads.
- ``views``, ``forms``, ``maps``, ``report``: the page, its map, and the PDF section.
"""
