"""Index constants shared by the kernels, the reference and the public API.

The kernels exchange one float64 parameter vector (``P_*`` indices) and write one float64
output matrix per size (``O_*`` columns), so their signatures stay short and both
implementations agree on every position.
"""

from __future__ import annotations

N_CLASSES = 6

# Scalar parameters, packed by siting.scoring._pack_scalars.
P_N_GPU = 0
P_P_IT_MW = 1
P_ROUTING = 2
P_RADIUS_KM = 3
P_SUB_A = 4  # LandBOSSE USD per (kV + MW)
P_SUB_B = 5  # LandBOSSE USD × MW^exp
P_SUB_EXP = 6
P_SUB_FIXED = 7
P_EUR_PER_USD = 8
P_OWN_REFURB = 9
P_TTP_OWN = 10
P_TTP_FREE_KM = 11
P_TTP_SLOPE = 12
P_C_FAC = 13
P_C_GPU_KEUR = 14
P_UTIL = 15
P_CRF_FAC = 16
P_CRF_IT = 17
P_CRF_GRID = 18
P_OM = 19
P_WUE = 20
P_LAND_HA_PER_MW = 21
P_BACKUP_H = 22
P_FUEL_T_PER_MWH = 23
P_SEVESO_LOW = 24
P_SEVESO_HIGH = 25
P_MAX_TTP = 26  # inf when no maximum
P_EXCL_SEVESO = 27  # 1.0 to exclude upper-tier sites
N_SCALARS = 28

# Output columns.
O_PUE = 0
O_FACILITY_MW = 1
O_CLASS_KV = 2
O_KIND = 3  # 0 none, 1 own connection, 2 new line
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
N_OUT = 37

# Exclusion bits: stable codes, shown to users.
EXCLUSIONS = {
    1: "land_too_small",
    2: "no_connection",
    4: "time_to_power_too_long",
    8: "polluted_unremediated",
    16: "flood_zone",
    32: "seveso_upper",
    64: "reconverted",
}
X_LAND, X_NO_CONN, X_TTP, X_POLLUTED, X_FLOOD, X_SEVESO, X_RECONVERTED = 1, 2, 4, 8, 16, 32, 64
