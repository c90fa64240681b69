"""The model against hand-worked numbers (MODEL.md §2), for the kernel and the reference alike."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from siting.scoring import presets, score_sites

IMPLS = ["kernel", "reference"]


def one_site(**overrides) -> pd.DataFrame:
    # Zoned for industry, no building standing, no pollution: site readiness is the 18-month
    # permit alone, below every grid time here, so time to power is the grid's.
    row = {
        "site_id": 1,
        "longitude": 2.0,
        "latitude": 48.0,
        "country": "FR",
        "area_ha": 500.0,
        "grid_capacity_mw": np.nan,
        "grid_voltage_kv": np.nan,
        "pollution_status": "none",
        "flood_zone": 0.0,
        "water_access": "river",
        "reconverted": False,
        "zoning_type": "U",
        "buildings_state": "none",
    }
    row.update(overrides)
    return pd.DataFrame([row])


def one_substation(kv: float = 400.0, headroom_mw: float = 2000.0, dlat: float = 0.1) -> pd.DataFrame:
    # 0.1° of latitude north of the site: great-circle 11.1195 km, line 11.1195 × 1.3 = 14.45536 km.
    return pd.DataFrame(
        [{"point_id": 7, "longitude": 2.0, "latitude": 48.0 + dlat, "voltage_kv": kv, "headroom_mw": headroom_mw}]
    )


ZONE = pd.DataFrame(
    [{"country": "FR", "carbon_intensity_g_per_kwh": 100.0, "price_eur_per_mwh": 60.0, "cooling_degree_days": 0.0}]
)


@pytest.mark.parametrize("impl", IMPLS)
class SeedPresetTests:
    def test_it_reproduces_the_seed_figures(self, impl):
        params = dataclasses.replace(presets()["seed"], sizes=(1000, 100000, 200000))
        table = score_sites(one_site(area_ha=1000.0), one_substation(), ZONE, params, impl=impl).table.set_index(
            "size_h100e"
        )
        # 1,000 GPUs × 1 kW = 1 MW; 1 MW × 7 M€/MW = 7 M€ of building; 1,000 × 50 k€ = 50 M€ of GPUs.
        assert table.loc[1000, "it_load_mw"] == pytest.approx(1.0)
        assert table.loc[1000, "pue"] == pytest.approx(1.0)
        assert table.loc[1000, "capex_facility_meur"] == pytest.approx(7.0)
        assert table.loc[1000, "capex_it_meur"] == pytest.approx(50.0)
        # 100,000 GPUs → 100 MW and 5 bn€ of GPUs.
        assert table.loc[100000, "it_load_mw"] == pytest.approx(100.0)
        assert table.loc[100000, "capex_it_meur"] == pytest.approx(5000.0)
        # 200 MW → 1.4 bn€ of building.
        assert table.loc[200000, "capex_facility_meur"] == pytest.approx(1400.0)


# One site per voltage class, default preset (H100 1.275 kW, liquid PUE 1.15 + 0.10 × CDD/1000
# with CDD 0 → 1.15), zone 100 g/kWh, a 400 kV substation 14.45536 km of line away with 2 GW
# known headroom. Connection = line km × c_line + LandBOSSE substation
# (11652 × (kV + MW) + 11795 × MW^0.3549 + 1,526,800) USD × 0.9 / 1e6 + bay;
# time = base + (14.45536 − 5) × 1 month/km; capex = P_IT × 8.4 + N × 0.05 + connection;
# emissions = P_fac × 8,760 × 0.8 × 100 / 1000 t; fuel = P_fac × 12 h × 0.227 t/MWh.
#   N        P_fac [MW]  class  connection [M€]  time [mo]  capex [M€]    tCO2/yr     fuel [t]
HAND_WORKED = [
    (5000, 7.33125, 20.0, 4.573337, 27.4554, 308.12334, 5137.74, 19.9703),  # 14.455×0.2 + 1.6667 + 0
    (10000, 14.6625, 63.0, 14.057603, 45.4554, 621.1576, 10275.48, 39.9406),  # 14.455×0.75 + 2.1159 + 1.0
    (20000, 29.325, 90.0, 14.502188, 45.4554, 1228.70219, 20550.96, 79.8813),
    (50000, 73.3125, 150.0, 17.551751, 57.4554, 3053.05175, 51377.4, 199.7032),
    (100000, 146.625, 225.0, 34.798796, 57.4554, 6105.7988, 102754.8, 399.4065),  # underground 1.9 M€/km
    (300000, 439.875, 400.0, 38.202355, 69.4554, 18251.20236, 308264.4, 1198.2195),  # overhead 1.6 M€/km
]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("size", "p_fac", "kv", "conn", "ttp", "capex", "emissions", "fuel"), HAND_WORKED)
def test_it_matches_a_hand_worked_site_per_voltage_class(impl, size, p_fac, kv, conn, ttp, capex, emissions, fuel):
    params = dataclasses.replace(presets()["default"], sizes=(size,))
    row = score_sites(one_site(), one_substation(), ZONE, params, impl=impl).table.iloc[0]
    assert row["facility_load_mw"] == pytest.approx(p_fac, rel=1e-9)
    assert row["voltage_class_kv"] == kv
    assert row["connection_kind"] == "new_line" and row["connection_point_id"] == 7
    assert row["connection_cost_meur"] == pytest.approx(conn, abs=1e-5)
    assert row["time_to_power_months"] == pytest.approx(ttp, abs=1e-4)
    assert row["capex_total_meur"] == pytest.approx(capex, abs=1e-4)
    assert row["emissions_t_per_yr"] == pytest.approx(emissions, rel=1e-9)
    assert row["backup_fuel_t"] == pytest.approx(fuel, abs=1e-4)
    assert row["seveso_tier"] == 0  # 12 h of fuel stays far below 2,500 t even at 440 MW
    assert bool(row["feasible"]) and row["rank"] == 1


@pytest.mark.parametrize("impl", IMPLS)
class ConnectionRulesTests:
    def test_it_reuses_an_adequate_own_connection(self, impl):
        params = dataclasses.replace(presets()["default"], sizes=(10000,))
        row = score_sites(one_site(grid_capacity_mw=500.0), one_substation(), ZONE, params, impl=impl).table.iloc[0]
        # Own connection: 2 M€ refurbishment, 12 grid months; time to power = max(12, 18 site months).
        assert row["connection_kind"] == "own" and row["connection_cost_meur"] == 2.0 and row["grid_months"] == 12.0
        assert row["time_to_power_months"] == 18.0 and row["headroom_source"] == "estimated"

    def test_it_excludes_a_site_whose_substation_lacks_headroom_with_the_reason(self, impl):
        params = dataclasses.replace(presets()["default"], sizes=(100000,))
        row = score_sites(one_site(), one_substation(headroom_mw=50.0), ZONE, params, impl=impl).table.iloc[0]
        assert not row["feasible"] and row["exclusion_reasons"] == "no_connection" and np.isnan(row["score"])

    def test_it_uses_class_default_headroom_when_unknown_and_flags_it(self, impl):
        params = dataclasses.replace(presets()["default"], sizes=(10000,))
        row = score_sites(one_site(), one_substation(kv=63.0, headroom_mw=np.nan), ZONE, params, impl=impl).table.iloc[
            0
        ]
        # 63 kV default headroom 20 MW ≥ 14.66 MW: feasible, estimated.
        assert row["feasible"] and row["headroom_mw"] == 20.0 and row["headroom_estimated"]

    def test_it_excludes_a_too_small_site(self, impl):
        params = dataclasses.replace(presets()["default"], sizes=(100000,))
        # Needs 146.625 MW × 0.25 ha/MW = 36.66 ha.
        row = score_sites(one_site(area_ha=30.0), one_substation(), ZONE, params, impl=impl).table.iloc[0]
        assert row["land_needed_ha"] == pytest.approx(36.65625) and row["exclusion_reasons"] == "land_too_small"

    def test_it_marks_seveso_upper_tier_with_long_autonomy(self, impl):
        params = dataclasses.replace(
            presets()["default"], sizes=(100000,), backup_hours=800.0, exclude_seveso_upper=True
        )
        # 146.625 MW × 800 h × 0.227 = 26,627 t ≥ 25,000 t.
        row = score_sites(one_site(), one_substation(), ZONE, params, impl=impl).table.iloc[0]
        assert row["seveso_tier"] == 2 and "seveso_upper" in row["exclusion_reasons"]

    def test_it_computes_hourly_emissions_as_the_mean_of_the_series(self, impl):
        params = dataclasses.replace(presets()["default"], sizes=(1000,))
        hourly = {"FR": np.r_[np.full(4380, 50.0), np.full(4380, 150.0)]}
        row = score_sites(one_site(), one_substation(), ZONE, params, hourly_carbon=hourly, impl=impl).table.iloc[0]
        # Σ_h P_fac × u × CI_h = 1.466 MW × 0.8 × (4380 × 50 + 4380 × 150) g/kWh / 1000.
        assert row["emissions_basis"] == "hourly"
        assert row["emissions_t_per_yr"] == pytest.approx(1.275 * 1.15 * 0.8 * (4380 * 50 + 4380 * 150) / 1000)
