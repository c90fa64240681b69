"""Index constants shared by the kernels, the reference and the public API.

The kernels exchange one float64 parameter vector (``P_*`` indices), one per-class table
(``T_*`` rows × voltage classes), one per-site input matrix (``S_*`` columns) and write one
float64 output matrix per size (``O_*`` columns), so their signatures stay short and both
implementations agree on every position.
"""

from __future__ import annotations

HOURS_PER_YEAR = 8760.0
"""Hours of full-time operation in a year (365 × 24; leap days ignored, an assumption). [h]"""

N_CLASSES = 6

# Scalar parameters, packed by siting.scoring.engine._pack_scalars.
P_N_GPU = 0
P_P_IT_MW = 1
P_ROUTING = 2
P_SUB_A = 3  # LandBOSSE USD per (kV + MW)
P_SUB_B = 4  # LandBOSSE USD × MW^exp
P_SUB_EXP = 5
P_SUB_FIXED = 6
P_EUR_PER_USD = 7
P_OWN_REFURB = 8
P_TTP_OWN = 9
P_TTP_FREE_KM = 10
P_TTP_SLOPE = 11
P_C_FAC = 12  # M€ per MW IT (× the draw's common factor)
P_C_GPU_KEUR = 13  # k€ per H100e (× the draw's common factor)
P_UTIL = 14
P_CRF_FAC = 15
P_CRF_IT = 16
P_CRF_GRID = 17
P_OM = 18
P_WUE = 19
P_LAND_HA_PER_MW = 20
P_BACKUP_H = 21
P_FUEL_T_PER_MWH = 22
P_SEVESO_LOW = 23
P_SEVESO_HIGH = 24
P_MAX_TTP = 25  # inf when no maximum
P_EXCL_SEVESO = 26  # 1.0 to exclude upper-tier sites
P_RATE_MONTH = 27  # discount rate / 12: cost of delay per month and € of capex
P_CUT_MIN_CLASS = 28  # lowest class index a cut-in serves (N_CLASSES: none)
P_CUT_EXTRA = 29  # months added by a cut-in
P_CUT_BAYS = 30  # line bays of a cut-in
P_REMED_AREA = 31  # area remediated where the site area is unknown [ha]; NaN: the land needed
P_EST_CREDIT = 32  # share of an observation a network headroom estimate counts for in reliability
N_SCALARS = 33

# Per-class table rows (columns: voltage classes).
T_KV = 0
T_RATING = 1
T_LINE_COST = 2  # M€/km
T_BAY = 3  # M€
T_TTP_BASE = 4  # months
N_TABLE = 5

# Per-site inputs (already multiplied by the draw's factors).
S_PUE = 0
S_OWN_CAP = 1  # usable own connection capacity [MW], NaN: none usable
S_OWN_KV = 2  # voltage class of the own connection [kV], NaN: none
S_AREA = 3
S_PRICE = 4  # delivered EUR/MWh
S_CARBON = 5  # g/kWh
S_CONN_F = 6  # connection cost factor
S_GRID_F = 7  # grid months factor
S_SITE_MONTHS = 8  # site readiness months (× the draw's factor)
S_MASK = 9  # site-level exclusion bits
S_OBSERVED = 10  # observed inputs among area, own connection, pollution, flood, water
S_REMED_MEUR_PER_HA = 11  # 0 unless pollution is confirmed and not remediated
N_SITE = 12

# Connection kinds.
K_NONE, K_OWN, K_NEW_LINE, K_CUT_IN = 0, 1, 2, 3
KIND_NAMES = {K_NONE: "none", K_OWN: "own", K_NEW_LINE: "new_line", K_CUT_IN: "cut_in"}

# Headroom sources.
H_KNOWN, H_ESTIMATED, H_DEFAULT = 0, 1, 2
HEADROOM_SOURCES = {H_KNOWN: "known", H_ESTIMATED: "estimated", H_DEFAULT: "default"}

# Output columns.
O_PUE = 0
O_FACILITY_MW = 1
O_CLASS_KV = 2  # the class the load needs
O_KIND = 3  # K_*
O_POINT = 4  # index into the grid arrays, −1 when none
O_LINE_KM = 5
O_LINE_COST = 6
O_SUB_COST = 7
O_CONN_COST = 8
O_HEADROOM = 9
O_HEADROOM_EST = 10
O_TTP = 11
O_CAPEX_FAC = 12
O_CAPEX_IT = 13
O_CAPEX_TOTAL = 14
O_ENERGY = 15
O_PRICE = 16
O_TCO = 17
O_EMISSIONS = 18
O_EMISSIONS_PER_MW = 19
O_WATER_M3 = 20
O_WATER_L_GPUH = 21
O_LAND_NEEDED = 22
O_LAND_FIT = 23
O_FUEL_T = 24
O_SEVESO = 25
O_MASK = 26
O_FEASIBLE = 27
O_RELIABILITY = 28
O_V0 = 29  # six normalised criteria, CRITERION_NAMES order
O_SCORE = 35
O_LAND_MARGIN = 36
O_CONN_KV = 37  # voltage class of the connection actually used [kV]
O_DELAY_COST = 38  # months × capex_total × r / 12 of the chosen option [M€]
O_GRID_MONTHS = 39
O_SITE_MONTHS = 40
O_REMED_CAPEX = 41
O_SITE_COST = 42  # EUR per GPU-hour without the IT hardware
O_HEADROOM_SRC = 43  # H_*
O_CUT_VERTEX = 44  # index into the densified line vertices, −1 when not a cut-in
O_CHOSEN_TOTAL = 45  # connection cost + cost of delay of the chosen option [M€]
O_RUNNER_KIND = 46  # K_* of the best option not chosen (0: none)
O_RUNNER_TOTAL = 47  # its connection cost + cost of delay [M€]
N_OUT = 48

# Exclusion bits: stable codes, shown to users.
EXCLUSIONS = {
    1: "land_too_small",
    2: "no_connection",
    4: "time_to_power_too_long",
    8: "polluted_unremediated",
    16: "flood_zone",
    32: "seveso_upper",
    64: "reconverted",
    128: "outside_scope",
    256: "still_operating",
    512: "overseas",
}
X_LAND, X_NO_CONN, X_TTP, X_POLLUTED, X_FLOOD, X_SEVESO, X_RECONVERTED = 1, 2, 4, 8, 16, 32, 64
X_OUTSIDE_SCOPE, X_OPERATING, X_OVERSEAS = 128, 256, 512
