"""A small synthetic but realistic world in the database: sites, substations, zones."""

from __future__ import annotations

import numpy as np

from grid.models import GridConnectionPoint, Zone
from siting.dashboard import selectors as dashboard
from siting.models import ScoringRun, Site
from siting.runs import services as runs
from siting.scoring.params import ScenarioParams

SIZES = (1000, 10000, 50000)

COUNTRIES = {
    "FR": (44.0, 50.0, -1.0, 7.0, 44.0, 95.0, 65.0),
    "DE": (48.0, 54.0, 7.0, 14.0, 344.0, 80.0, 27.0),
    "ES": (37.0, 43.0, -8.0, 2.0, 150.0, 60.0, 275.0),
}


def world_create(*, n_sites: int = 400, n_points: int = 300, seed: int = 0) -> None:
    """Create ``n_sites`` sites and ``n_points`` substations spread over FR, DE and ES."""
    rng = np.random.default_rng(seed)
    for code, (_a, _b, _c, _d, carbon, price, cdd) in COUNTRIES.items():
        Zone.objects.create(
            code=code,
            name=code,
            carbon_intensity_g_per_kwh=carbon,
            carbon_year=2024,
            price_eur_per_mwh=price,
            cooling_degree_days=cdd,
        )
    codes = list(COUNTRIES)
    voltages = np.array([63.0, 90.0, 150.0, 225.0, 400.0])
    points = []
    for i in range(n_points):
        code = codes[i % len(codes)]
        lat0, lat1, lon0, lon1 = COUNTRIES[code][:4]
        points.append(
            GridConnectionPoint(
                external_id=f"test:p{i}",
                name=f"P{i}",
                country=code,
                longitude=rng.uniform(lon0, lon1),
                latitude=rng.uniform(lat0, lat1),
                voltage_kv=float(rng.choice(voltages)),
                source="rte",
                source_vintage="test",
                headroom_mw=float(rng.uniform(10, 600)) if rng.random() < 0.3 else None,
            )
        )
    GridConnectionPoint.objects.bulk_create(points)
    sites = []
    for i in range(n_sites):
        code = codes[i % len(codes)]
        lat0, lat1, lon0, lon1 = COUNTRIES[code][:4]
        sites.append(
            Site(
                external_id=f"test:s{i}",
                name=f"Site {i}",
                country=code,
                longitude=rng.uniform(lon0, lon1),
                latitude=rng.uniform(lat0, lat1),
                area_ha=float(rng.uniform(1, 150)) if rng.random() < 0.8 else None,
                grid_capacity_mw=float(rng.uniform(20, 900)) if rng.random() < 0.1 else None,
                grid_voltage_kv=225.0 if rng.random() < 0.1 else None,
                pollution_status=str(rng.choice(["none", "suspected", "confirmed", "unknown"])),
                source="cartofriches",
                source_vintage="test",
            )
        )
    Site.objects.bulk_create(sites)


def scored_world_create(*, n_sites: int = 150, n_points: int = 120, draws: int = 20) -> ScoringRun:
    """Create a small world, label some sites for the filters, and score it as a saved run."""
    world_create(n_sites=n_sites, n_points=n_points, seed=3)
    ids = list(Site.objects.order_by("id").values_list("id", flat=True))
    Site.objects.filter(id__in=ids[0::4]).update(departement_code="57", region_code="44", former_use="steel")
    Site.objects.filter(id__in=ids[1::4]).update(departement_code="13", region_code="93", former_use="coal_plant")
    Site.objects.filter(id__in=ids[2::10]).update(flood_zone=True)
    params = ScenarioParams(sizes=SIZES)
    run = runs.scoring_run_start(params=params.to_dict(), draws=draws, name="test world", dispatch=False)
    run = runs.scoring_run_execute_inline(run_id=run.id)
    assert run.status == ScoringRun.Status.SUCCEEDED, run.error
    dashboard.caches_clear()
    return run
