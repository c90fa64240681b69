// The ranked map's filters: the same rules as the server's exports and API, which filter with
// siting/dashboard/selectors.py filter_mask(frame, SiteFilters, score). A filter here is an
// object shaped like SiteFilters (same field names; empty lists and null mean "any"), sent to
// the server as the query parameters SiteFilters.from_query reads, so the table, the map and
// the exports keep the same sites. tests/siting/dashboard/test_filter_parity.py feeds both
// implementations the same cases.

export const NO_FILTERS = Object.freeze({
  country: [], region: [], departement: [], former_use: [], min_score: null, max_time_to_power_months: null,
  hide_polluted: false, hide_flood_zone: false, include_excluded: false,
});

function missing(v) {
  return v === null || v === undefined || Number.isNaN(v);
}

// Indices of the sites of `columns` (decoded map data) that pass `filters`. `score` holds each
// site's score [0–100] under the current weights. Pure: reads nothing but its arguments.
// Excluded (not feasible) sites pass only with include_excluded, and the score and time-to-power
// bounds apply to feasible sites only. A missing score or time to power fails its bound
// (null >= 5 is false in JavaScript, but null <= 40 is true: hence the explicit checks).
export function selectRows(columns, score, filters) {
  const f = { ...NO_FILTERS, ...filters };
  const c = columns, out = [];
  const countries = new Set(f.country), regions = new Set(f.region), departements = new Set(f.departement);
  const uses = new Set(f.former_use);
  const minScore = missing(f.min_score) ? null : f.min_score;
  const maxTtp = missing(f.max_time_to_power_months) ? null : f.max_time_to_power_months;
  for (let i = 0; i < c.site_id.length; i++) {
    const feasible = Boolean(c.feasible[i]);
    if (!feasible && !f.include_excluded) continue;
    if (countries.size && !countries.has(c.country[i])) continue;
    if (regions.size && !regions.has(c.region_code[i])) continue;
    if (departements.size && !departements.has(c.departement_code[i])) continue;
    if (uses.size && !uses.has(c.former_use[i])) continue;
    if (feasible && minScore !== null && (missing(score[i]) || !(score[i] >= minScore))) continue;
    const ttp = c.time_to_power_months[i];
    if (feasible && maxTtp !== null && (missing(ttp) || !(ttp <= maxTtp))) continue;
    if (f.hide_polluted && c.pollution_status[i] === "confirmed") continue;
    if (f.hide_flood_zone && c.flood_zone[i] === 1) continue;
    out.push(i);
  }
  return out;
}

// The query parameters of `filters` (SiteFilters.from_query's names), as [name, value] pairs.
export function filterParams(filters) {
  const f = { ...NO_FILTERS, ...filters }, out = [];
  for (const name of ["country", "region", "departement", "former_use"]) for (const v of f[name]) out.push([name, v]);
  if (!missing(f.min_score)) out.push(["min_score", String(f.min_score)]);
  if (!missing(f.max_time_to_power_months)) out.push(["max_time_to_power_months", String(f.max_time_to_power_months)]);
  if (f.hide_polluted) out.push(["hide_polluted", "1"]);
  if (f.hide_flood_zone) out.push(["hide_flood_zone", "1"]);
  if (f.include_excluded) out.push(["include_excluded", "1"]);
  return out;
}

// The map data rounds times to power up to this step [months] (siting/dashboard/selectors.py
// MAP_DIGITS: 2 decimals), which keeps "time to power <= a bound" exact for bounds on the step.
// A typed bound is taken down to the step, and sent so to the server: the table and the exports
// then keep the same sites whatever the planner types (24.005 months is read as 24).
export const TIME_TO_POWER_STEP_MONTHS = 0.01;

// The filters of the page's filter form, given its values as name → list of strings (what
// FormData.getAll gives). A minimum score of 0 (the slider at rest) and an empty, unreadable or
// non-positive maximum time to power filter nothing: null.
export function filtersFromForm(values) {
  const all = (name) => (values[name] || []).map(String);
  const first = (name) => all(name)[0] || "";
  const one = (name) => (first(name) ? [first(name)] : []);
  const minScore = parseFloat(first("min_score")) || 0;
  const ttp = parseFloat(first("max_time_to_power_months").replace(",", "."));
  let maxTtp = null;
  if (Number.isFinite(ttp) && ttp > 0) {
    // 1e-9: 24.3 * 100 is 2429.9999999999995 in floating point; a bound under one step stays one step.
    const steps = Math.max(1, Math.floor(ttp / TIME_TO_POWER_STEP_MONTHS + 1e-9));
    maxTtp = Number((steps * TIME_TO_POWER_STEP_MONTHS).toFixed(2));
  }
  return {
    ...NO_FILTERS,
    country: all("country"), region: one("region"), departement: one("departement"), former_use: all("former_use"),
    min_score: minScore > 0 ? minScore : null, max_time_to_power_months: maxTtp,
    hide_polluted: first("hide_polluted") === "1", hide_flood_zone: first("hide_flood_zone") === "1",
  };
}

// The filters set in the page's filter form.
export function readFilters(form) {
  const data = new FormData(form), values = {};
  for (const name of new Set(data.keys())) values[name] = data.getAll(name);
  return filtersFromForm(values);
}
