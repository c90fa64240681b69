// The ranked map: one run, one cluster size; filters, weights, sortable table, exports.
// Filtering follows siting/dashboard/selectors.py filter_mask (filters.js); scores under new
// weights come from the server (the reweight endpoint), so the page never computes a score itself.
import { tableColumns, siteUrl } from "./columns.js";
import { mercatorY, sharedRanks, sizeLoader } from "./data.js";
import { filterParams, readFilters, selectRows } from "./filters.js";
import { CELL_ZOOM, createMap, zoomBand } from "./map.js";
import { createTable } from "./table.js";

const G = window.Gigasite;
const cfg = JSON.parse(document.getElementById("map-config").textContent);
const L = cfg.labels;
const state = {
  size: cfg.size, cols: null, score: null, rank: null, shared: null, order: "rank", page: 1, loadSeq: 0,
  countries: null, departements: null, substations: null, zones: null, focus: null, reweightSeq: 0,
  selected: new Set(), hover: null, known: {}, rows: [], band: null, mercY: null,
};
const mapDiv = document.getElementById("ranked-map");
const filtersForm = document.getElementById("filters");
const weightsForm = document.getElementById("weights");

// The map data (the run's sites and the first size's own columns) and the country outlines are
// asked for at once, while plotly.js (an async script in the page's head) is still downloading.
const fetchSize = sizeLoader(G.fetchJSON, cfg.urls.mapData, cfg.urls.mapSites);
const firstData = fetchSize(cfg.size);
const countriesData = G.fetchJSON(cfg.urls.countries);
const plotlyReady = new Promise((resolve, reject) => {
  if (window.Plotly) return resolve();
  const script = document.getElementById("plotly-js");
  script.addEventListener("load", () => resolve());
  script.addEventListener("error", () => reject(new Error("plotly.js")));
});
firstData.catch(() => {});
countriesData.catch(() => {});

// Indices of the rows that pass the page's filters (excluded sites only with includeExcluded).
function selected(includeExcluded) {
  return selectRows(state.cols, state.score, { ...readFilters(filtersForm), include_excluded: includeExcluded });
}

const ctx = { cfg, G, state, selected };
const columns = tableColumns(ctx);
const table = createTable(ctx, columns);
const map = createMap(ctx, mapDiv);
table.drawHeader();

function weights() {
  const w = {};
  for (const c of cfg.criteria) w[c.name] = parseFloat(document.getElementById("w-" + c.name).value);
  return w;
}
// Sliders move in steps of 0.01: a run's weight counts as unchanged within half a step.
function weightsChanged() {
  return cfg.criteria.some((c) => Math.abs(parseFloat(document.getElementById("w-" + c.name).value) - c.weight) > 0.005);
}
// The query of this view for the server's exports: size, filters, weights if moved, order.
function query(extra) {
  const p = new URLSearchParams();
  p.set("size", state.size);
  for (const [k, v] of filterParams(readFilters(filtersForm))) p.append(k, v);
  if (weightsChanged()) for (const [k, v] of Object.entries(weights())) p.set("w_" + k, v);
  p.set("order", state.order);
  for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
  return p.toString();
}

function updateExports() {
  document.getElementById("export-csv").href = cfg.urls.sites + "?" + query({ format: "csv" });
  document.getElementById("export-geojson").href = cfg.urls.sites + "?" + query({ format: "geojson" });
}

function render(redrawMap) {
  const rows = table.sorted(selected(false));
  state.rows = rows;
  table.draw(rows);
  updateExports();
  table.updateCompare();
  return redrawMap === false ? Promise.resolve() : map.draw(rows);
}

async function reweight() {
  const seq = ++state.reweightSeq;
  const status = document.getElementById("reweight-status");
  let score = state.cols.score, rank = state.cols.rank;
  if (weightsChanged()) {
    const p = new URLSearchParams({ size: state.size });
    for (const [k, v] of Object.entries(weights())) p.set("w_" + k, v);
    let data;
    try {
      data = await G.fetchJSON(cfg.urls.reweight + "?" + p.toString());
    } catch (err) {
      if (seq === state.reweightSeq) status.textContent = L.error + " " + err.message;
      return;
    }
    if (seq !== state.reweightSeq) return; // a newer slider move superseded this answer
    const at = new Map(data.site_id.map((id, k) => [id, k]));
    score = state.cols.site_id.map((id) => data.score[at.get(id)]);
    rank = state.cols.site_id.map((id) => data.rank[at.get(id)]);
    status.textContent = G.interpolate(L.reweighted, { ms: G.fmt(data.elapsed_ms, 0) });
  } else {
    status.textContent = "";
  }
  state.score = score;
  state.rank = rank;
  state.shared = rank === state.cols.rank ? state.cols.rank_shared : sharedRanks(rank);
  state.hover = map.hoverData();
  state.page = 1;
  await render();
  document.getElementById("ranked-table").dataset.weights = JSON.stringify(weights());
}

async function loadSize(size) {
  const seq = ++state.loadSeq;
  let data;
  try {
    data = await fetchSize(size);
  } catch (err) {
    document.getElementById("table-summary").textContent = L.error + " " + err.message;
    return;
  }
  if (seq !== state.loadSeq) return; // the planner picked another size meanwhile
  state.size = size;
  state.focus = null;
  document.querySelectorAll(".size-btn").forEach((b) => {
    const on = Number(b.dataset.size) === size;
    b.classList.toggle("current", on);
    b.setAttribute("aria-pressed", on ? "true" : "false");
  });
  const url = new URL(window.location.href);
  url.searchParams.set("size", size);
  window.history.replaceState(null, "", url);
  state.cols = data.columns;
  state.mercY = mercatorY(state.cols.latitude);
  state.known = data.known_headroom || {};
  state.score = state.cols.score;
  state.rank = state.cols.rank;
  mapDiv.dataset.size = String(size);
  await reweight();
}

function focusSite(i) {
  if (state.cols.longitude[i] === null || state.cols.latitude[i] === null) return;
  state.focus = i;
  state.focusCenter = { lat: state.cols.latitude[i], lon: state.cols.longitude[i] };
  state.focusZoom = 8;
  render();
}

async function start() {
  try {
    await plotlyReady;
    state.countries = await countriesData;
    await firstData;
    document.getElementById("map-loading").remove();
    await loadSize(state.size);
  } catch (err) {
    document.getElementById("table-summary").textContent = L.error + " " + err.message;
    return;
  }
  document.querySelectorAll(".size-btn").forEach((b) => b.addEventListener("click", () => loadSize(Number(b.dataset.size))));
  let timer = null;
  filtersForm.addEventListener("input", () => {
    document.getElementById("f-min-score-out").textContent = document.getElementById("f-min-score").value;
    clearTimeout(timer);
    timer = setTimeout(() => { state.page = 1; render(); }, 150);
  });
  filtersForm.addEventListener("reset", () => setTimeout(() => { state.page = 1; render(); }, 0));
  let wtimer = null;
  weightsForm.addEventListener("input", (ev) => {
    const out = document.getElementById(ev.target.id + "-out");
    if (out) out.textContent = G.fmt(parseFloat(ev.target.value), 2);
    clearTimeout(wtimer);
    wtimer = setTimeout(reweight, 200);
  });
  document.getElementById("weights-reset").addEventListener("click", () => {
    for (const c of cfg.criteria) {
      document.getElementById("w-" + c.name).value = c.weight;
      document.getElementById("w-" + c.name + "-out").textContent = G.fmt(c.weight, 2);
    }
    reweight();
  });
  document.querySelector("#ranked-table thead").addEventListener("click", (ev) => {
    const b = ev.target.closest("button.sort");
    if (!b) return;
    state.order = b.dataset.order;
    state.page = 1;
    render(false);
  });
  document.getElementById("page-prev").addEventListener("click", () => { state.page -= 1; render(false); });
  document.getElementById("page-next").addEventListener("click", () => { state.page += 1; render(false); });
  document.querySelector("#ranked-table tbody").addEventListener("change", (ev) => {
    if (!ev.target.classList.contains("compare-box")) return;
    const id = Number(ev.target.value);
    if (ev.target.checked) state.selected.add(id); else state.selected.delete(id);
    render(false);
  });
  document.querySelector("#ranked-table tbody").addEventListener("click", (ev) => {
    if (ev.target.closest("a") || ev.target.closest("input[type=checkbox]")) return;
    const tr = ev.target.closest("tr[data-index]");
    if (tr) focusSite(Number(tr.dataset.index));
  });
  ["show-excluded", "online-tiles"].forEach((id) => {
    document.getElementById(id).addEventListener("change", () => render());
  });
  // Layers are fetched the first time they are asked for.
  document.getElementById("layer-departements").addEventListener("change", async () => {
    if (!state.departements) state.departements = await G.fetchJSON(cfg.urls.departements);
    render();
  });
  document.getElementById("layer-substations").addEventListener("change", async () => {
    if (!state.substations) state.substations = (await G.fetchJSON(cfg.urls.gridPoints)).columns;
    render();
  });
  document.getElementById("layer-carbon").addEventListener("change", async () => {
    if (!state.zones) state.zones = (await G.fetchJSON(cfg.urls.zones)).zones;
    render();
  });
  // Crossing a zoom band swaps the other sites' trace (cells of another size, or each site);
  // the same Plotly.react keeps the view, and the unchanged traces are not converted again.
  mapDiv.on("plotly_relayout", (ev) => {
    const zoom = ev["map.zoom"];
    if (zoom !== undefined && zoomBand(zoom) !== state.band) map.draw(state.rows);
  });
  mapDiv.on("plotly_click", (ev) => {
    const pt = ev.points && ev.points[0];
    if (pt && pt.data.legendgroup === "cells") { // a cell opens up: zoom in on it
      window.Plotly.relayout(mapDiv, { "map.center": { lon: pt.lon, lat: pt.lat }, "map.zoom": Math.min(CELL_ZOOM, state.band + 2) });
      return;
    }
    if (pt && pt.customdata && pt.data.legendgroup === "sites") window.location.href = siteUrl(ctx, pt.customdata[0]);
  });
}
start();
