// The ranked map (plotly.js "scattermap" traces on an offline base map): the best sites one by
// one, the others grouped into grid cells at low zoom, excluded sites and optional layers.
import { rankText, reasonText } from "./columns.js";

// Below zoom CELL_ZOOM the other sites are drawn as one marker per square grid cell of about
// CELL_PX pixels (sized by how many sites it holds, coloured by its best score): at the
// country view MapLibre then draws a few hundred markers instead of 14,000. The cells follow
// whole zoom levels, so panning and zooming within a level redraws nothing; from CELL_ZOOM on
// every site is drawn. The best sites are always drawn one by one.
export const CELL_ZOOM = 7;
const CELL_PX = 20;

// Zoom band of a map zoom: whole zoom levels below CELL_ZOOM, one band from there on.
export function zoomBand(zoom) {
  return Math.min(CELL_ZOOM, Math.max(0, Math.floor(zoom)));
}

function markerSize(largest) {
  const s = largest && largest > 0 ? largest : 1000;
  return 6 + 5 * (Math.log10(s) - 3);
}

function pick(arr, rows) {
  return rows.map((i) => arr[i]);
}

export function createMap(ctx, mapDiv) {
  const { cfg, G, state } = ctx, L = cfg.labels;
  // The best TOP_N sites that pass the filters are drawn large, on a dark halo, above the
  // others (small and faint: where sites are, not which are best), so the best stand out at
  // a glance instead of drowning in 10,000 dots of one size.
  const TOP_N = cfg.topSites;
  let staticCache = null, staticKey = null;

  // The carbon and substation layers never change with filters, sizes or weights: built once
  // and passed as the same objects, so Plotly.react skips them on every redraw. They are only
  // added when asked for (even hidden, plotly would convert their 11,000 points each time).
  function staticTraces() {
    const wantCarbon = document.getElementById("layer-carbon").checked;
    const wantSubstations = document.getElementById("layer-substations").checked;
    const key = String(wantCarbon) + String(wantSubstations);
    if (staticCache && staticKey === key) return staticCache;
    const out = [];
    if (wantCarbon && state.zones && state.countries) {
      const z = state.zones.filter((r) => r.carbon_intensity_g_per_kwh !== null);
      out.push({
        type: "choroplethmap", geojson: state.countries, featureidkey: "properties.code",
        locations: z.map((r) => r.code), z: z.map((r) => r.carbon_intensity_g_per_kwh), text: z.map((r) => r.name),
        colorscale: "YlOrRd", zmin: 0, zmax: 800, marker: { opacity: 0.55, line: { width: 0 } }, showscale: false,
        name: L.carbon, showlegend: true,
        hovertemplate: "%{text}: %{z:.0f} g CO₂e/kWh<extra></extra>",
      });
    }
    if (wantSubstations && state.substations) {
      // Voltage bands as the model's classes see them (400, 225, 150, 63–90 kV; 45 kV and below
      // only feed the 20 kV class and are left off the map).
      const s = state.substations;
      const bands = [[380, 1e9, "≥ 380 kV", "#b2182b", 5], [200, 380, "200–379 kV", "#ef8a62", 5],
        [110, 200, "110–199 kV", "#e0a030", 4], [60, 110, "60–109 kV", "#2166ac", 4]];
      for (const [lo, hi, label, color, size] of bands) {
        const idx = [];
        for (let i = 0; i < s.voltage_kv.length; i++) if (s.voltage_kv[i] >= lo && s.voltage_kv[i] < hi) idx.push(i);
        if (!idx.length) continue;
        out.push({
          type: "scattermap", mode: "markers", lon: pick(s.longitude, idx), lat: pick(s.latitude, idx),
          text: idx.map((i) => s.name[i] + " · " + s.voltage_kv[i] + " kV"),
          marker: { size: size, color: color, opacity: 0.8 },
          name: L.substations + " " + label, legendgroup: "substations",
          hovertemplate: "%{text}<extra></extra>",
        });
      }
    }
    staticCache = out;
    staticKey = key;
    return out;
  }

  // Hover pieces that an older run may lack (no site cost, no availability flag): empty then.
  function siteCostText(i) {
    const v = state.cols.site_cost_eur_per_gpu_hour[i];
    return v === null || v === undefined ? "" : L.siteCost + ": " + G.fmt(v, 2) + " " + L.eurPerGpuh + "<br>";
  }
  function flagText(i) {
    return state.cols.may_be_unavailable[i] ? " · " + L.mayBeUnavailable : "";
  }
  // "Headroom: known, 120 MW (source, as of, upload)" for a site whose grid point's headroom an
  // analyst uploaded (the map data carries each such point's provenance once).
  function knownText(i) {
    const pid = state.cols.known_headroom_point_id ? state.cols.known_headroom_point_id[i] : null;
    const k = pid === null || pid === undefined ? null : state.known[String(pid)];
    if (!k) return "";
    const parts = [k.source, k.as_of ? G.interpolate(L.asOf, { date: k.as_of }) : "", k.upload ? L.upload + " " + k.upload : ""];
    return L.headroom + ": " + L.known + ", " + G.fmt(k.headroom_mw, 0) + " MW (" + parts.filter(Boolean).join(" · ") + ")<br>";
  }

  // Hover data of every site, built once per size and weights (not on every filter change):
  // [site id, rank text, score, full cost, time to power, emissions, site cost line, flags].
  function hoverData() {
    const c = state.cols, n = c.site_id.length, out = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = [c.site_id[i], rankText(ctx, i), state.score[i], c.tco_eur_per_gpu_hour[i], c.time_to_power_months[i],
        c.emissions_t_per_yr[i], siteCostText(i) + knownText(i), flagText(i)];
    }
    return out;
  }

  // The sites of rows grouped into square cells of the zoom band: per cell its sites' count,
  // mean position and best site (lowest rank, ties by site id).
  function gridCells(rows, band) {
    const c = state.cols, y = state.mercY;
    const lonStep = (CELL_PX * 360) / (256 * Math.pow(2, band)), yStep = (lonStep * Math.PI) / 180;
    const cells = new Map();
    for (const i of rows) {
      if (c.longitude[i] === null || y[i] === null) continue;
      const key = Math.floor(c.longitude[i] / lonStep) + ":" + Math.floor(y[i] / yStep);
      let cell = cells.get(key);
      if (!cell) cells.set(key, (cell = { n: 0, lon: 0, lat: 0, best: i }));
      cell.n += 1;
      cell.lon += c.longitude[i];
      cell.lat += c.latitude[i];
      const b = cell.best;
      if (state.rank[i] < state.rank[b] || (state.rank[i] === state.rank[b] && c.site_id[i] < c.site_id[b])) cell.best = i;
    }
    return [...cells.values()];
  }

  function cellTrace(rest, band, colour) {
    const cells = gridCells(rest, band).sort((a, b) => state.rank[b.best] - state.rank[a.best]); // best on top
    const hovertemplate = "<b>%{customdata[0]} " + L.cellSites + "</b><br>" + L.cellBest + ": %{text} (" + L.rank +
      " %{customdata[1]} · " + L.score + " %{customdata[2]:.1f})<br><i>" + L.zoomIn + "</i><extra></extra>";
    return {
      type: "scattermap", mode: "markers", lon: cells.map((k) => k.lon / k.n), lat: cells.map((k) => k.lat / k.n),
      text: cells.map((k) => state.cols.site_name[k.best]),
      customdata: cells.map((k) => [k.n, rankText(ctx, k.best), state.score[k.best]]),
      marker: Object.assign({ size: cells.map((k) => Math.min(30, 5 + 3 * Math.log2(k.n))), opacity: 0.6,
        color: cells.map((k) => state.score[k.best]), showscale: false }, colour),
      name: G.interpolate(L.cells, { n: G.fmt(rest.length, 0), cells: G.fmt(cells.length, 0) }),
      legendgroup: "cells", hovertemplate: hovertemplate,
    };
  }

  function traces(rows, band) {
    const c = state.cols, out = staticTraces().slice();
    if (document.getElementById("show-excluded").checked) {
      const ex = ctx.selected(true).filter((i) => !c.feasible[i]);
      out.push({
        type: "scattermap", mode: "markers", lon: pick(c.longitude, ex), lat: pick(c.latitude, ex),
        text: pick(c.site_name, ex), customdata: ex.map((i) => reasonText(cfg, c.exclusion_reasons[i])),
        marker: { size: 5, color: "#9e9e9e", opacity: 0.55 }, name: L.excluded,
        hovertemplate: "<b>%{text}</b><br>" + L.reasons + ": %{customdata}<extra></extra>",
      });
    }
    // Best first by rank (ties by site id), whatever order the table shows.
    const byRank = rows.slice().sort((a, b) => (state.rank[a] - state.rank[b]) || (c.site_id[a] - c.site_id[b]));
    const top = byRank.slice(0, TOP_N).reverse(); // the best drawn last, on top
    const rest = byRank.slice(TOP_N).reverse();
    const hovertemplate = "<b>%{text}</b>%{customdata[7]}<br>" + L.rank + ": %{customdata[1]} · " + L.score + ": %{customdata[2]:.1f}<br>" +
      "%{customdata[6]}" + L.tco + ": %{customdata[3]:.2f} " + L.eurPerGpuh + "<br>" + L.ttp + ": %{customdata[4]:.0f} " + L.months +
      "<br>" + L.emissions + ": %{customdata[5]:,.0f} " + L.tPerYr + "<extra></extra>";
    const colour = { colorscale: "Viridis", cmin: 0, cmax: 100 };
    out.push(band < CELL_ZOOM ? cellTrace(rest, band, colour) : {
      type: "scattermap", mode: "markers", lon: pick(c.longitude, rest), lat: pick(c.latitude, rest),
      text: pick(c.site_name, rest), customdata: pick(state.hover, rest),
      marker: Object.assign({ size: 4, opacity: 0.45, color: pick(state.score, rest), showscale: false }, colour),
      name: L.otherSites, legendgroup: "sites", hovertemplate: hovertemplate,
    });
    const sizes = top.map((i) => 1.4 * markerSize(c.largest_size_h100e[i]));
    out.push({
      type: "scattermap", mode: "markers", lon: pick(c.longitude, top), lat: pick(c.latitude, top),
      marker: { size: sizes.map((s) => s + 4), color: "#14365d" }, hoverinfo: "skip", showlegend: false, legendgroup: "sites",
    });
    out.push({
      type: "scattermap", mode: "markers", lon: pick(c.longitude, top), lat: pick(c.latitude, top),
      text: pick(c.site_name, top), customdata: pick(state.hover, top),
      marker: Object.assign({ size: sizes, color: pick(state.score, top), colorbar: { title: { text: L.score }, thickness: 12 } }, colour),
      name: G.interpolate(L.topSites, { n: Math.min(TOP_N, top.length) }), legendgroup: "sites", hovertemplate: hovertemplate,
    });
    if (state.focus !== null) {
      const i = state.focus;
      out.push({
        type: "scattermap", mode: "markers", lon: [c.longitude[i]], lat: [c.latitude[i]], text: [c.site_name[i]],
        marker: { size: 22, color: "rgba(242,169,0,0.55)" }, hovertemplate: "<b>%{text}</b><extra></extra>", showlegend: false,
      });
    }
    return out;
  }

  function draw(rows) {
    const online = document.getElementById("online-tiles").checked;
    const prev = mapDiv.layout && mapDiv.layout.map;
    const center = state.focusCenter || (prev ? prev.center : { lat: 47.0, lon: 5.0 });
    const zoom = state.focusZoom || (prev ? prev.zoom : 3.6);
    state.focusCenter = state.focusZoom = null;
    const showDeps = document.getElementById("layer-departements");
    const layout = {
      map: G.mapLayout(G.boundaryLayers(state.countries, state.departements, showDeps && showDeps.checked), center, zoom, online),
      margin: { l: 0, r: 0, t: 0, b: 0 }, height: 600, uirevision: "keep", separators: G.separators,
      legend: { x: 0.01, y: 0.99, bgcolor: "rgba(255,255,255,0.85)" },
    };
    const band = zoomBand(zoom);
    const data = traces(rows, band);
    state.band = band;
    return window.Plotly.react(mapDiv, data, layout, G.plotConfig).then(() => {
      // What is drawn, for tests and the bench: sites passing the filters, the best drawn one by
      // one, the markers standing for them (the best plus a cell or a site each for the others).
      const rest = data.find((t) => t.legendgroup === "cells" || t.name === L.otherSites);
      mapDiv.dataset.drawn = String(Number(mapDiv.dataset.drawn || 0) + 1);
      mapDiv.dataset.drawnAtMs = String(Math.round(performance.now()));
      mapDiv.dataset.points = String(rows.length);
      mapDiv.dataset.top = String(Math.min(TOP_N, rows.length));
      mapDiv.dataset.band = String(band);
      mapDiv.dataset.cells = String(rest.legendgroup === "cells" ? rest.lon.length : 0);
      mapDiv.dataset.markers = String(Math.min(TOP_N, rows.length) + rest.lon.length);
    });
  }

  return { draw, hoverData };
}
