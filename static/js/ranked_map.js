// The ranked map: one run, one cluster size; filters, weights, sortable table, exports.
// Filtering here follows siting/dashboard/selectors.py filter_frame; scores under new weights come from
// the server (the reweight endpoint), so the page never computes a score itself.
(function () {
  "use strict";
  const G = window.Gigasite;
  const cfg = JSON.parse(document.getElementById("map-config").textContent);
  const L = cfg.labels;
  const PAGE_SIZE = 25;
  // The best TOP_N sites that pass the filters are drawn large, on a dark halo, above the
  // others (small and faint: where sites are, not which are best), so the best stand out at
  // a glance instead of drowning in 10,000 dots of one size.
  const TOP_N = cfg.topSites;
  // Below zoom CELL_ZOOM the other sites are drawn as one marker per square grid cell of about
  // CELL_PX pixels (sized by how many sites it holds, coloured by its best score): at the
  // country view MapLibre then draws a few hundred markers instead of 14,000. The cells follow
  // whole zoom levels, so panning and zooming within a level redraws nothing; from CELL_ZOOM on
  // every site is drawn. The best TOP_N are always drawn one by one.
  const CELL_ZOOM = 7;
  const CELL_PX = 20;
  const state = {
    size: cfg.size, cols: null, score: null, rank: null, shared: null, order: "rank", page: 1, loadSeq: 0,
    countries: null, departements: null, substations: null, zones: null, focus: null, reweightSeq: 0,
    selected: new Set(), hover: null, known: {}, rows: [], band: null, mercY: null,
  };
  // The map data codes its columns of few distinct values (countries, former uses, exclusion
  // reasons, flags...): such a column holds indices into codes[column], its list of values.
  // Decoded here, once per size, so the rest of the page reads plain values.
  function decodeColumns(data) {
    for (const [name, values] of Object.entries(data.codes || {})) {
      data.columns[name] = data.columns[name].map((k) => (k === null ? null : values[k]));
    }
    return data;
  }
  // Each size's data is fetched and decoded once per page (the server also answers a repeat with 304).
  const sizeData = new Map();
  function fetchSize(size) {
    if (!sizeData.has(size)) {
      const p = G.fetchJSON(cfg.urls.mapData + "?size=" + size).then(decodeColumns);
      p.catch(() => sizeData.delete(size)); // a failed fetch is retried next time
      sizeData.set(size, p);
    }
    return sizeData.get(size);
  }
  // The map data and the country outlines are asked for at once, while plotly.js (an async
  // script in the page's head) is still downloading.
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
  const mapDiv = document.getElementById("ranked-map");
  const filtersForm = document.getElementById("filters");
  const weightsForm = document.getElementById("weights");

  function weights() {
    const w = {};
    for (const c of cfg.criteria) w[c.name] = parseFloat(document.getElementById("w-" + c.name).value);
    return w;
  }
  // Sliders move in steps of 0.01: a run's weight counts as unchanged within half a step.
  function weightsChanged() {
    return cfg.criteria.some((c) => Math.abs(parseFloat(document.getElementById("w-" + c.name).value) - c.weight) > 0.005);
  }
  function filters() {
    const f = new FormData(filtersForm);
    const ttp = parseFloat(String(f.get("max_time_to_power_months") || "").replace(",", "."));
    return {
      country: f.getAll("country"), region: f.get("region") || "", departement: f.get("departement") || "",
      former_use: f.getAll("former_use"), min_score: parseFloat(f.get("min_score")) || 0,
      max_ttp: Number.isFinite(ttp) && ttp > 0 ? ttp : null,
      hide_polluted: f.get("hide_polluted") === "1", hide_flood_zone: f.get("hide_flood_zone") === "1",
    };
  }
  function query(extra) {
    const p = new URLSearchParams();
    p.set("size", state.size);
    const f = filters();
    f.country.forEach((c) => p.append("country", c));
    if (f.region) p.set("region", f.region);
    if (f.departement) p.set("departement", f.departement);
    f.former_use.forEach((u) => p.append("former_use", u));
    if (f.min_score > 0) p.set("min_score", f.min_score);
    if (f.max_ttp) p.set("max_time_to_power_months", f.max_ttp);
    if (f.hide_polluted) p.set("hide_polluted", "1");
    if (f.hide_flood_zone) p.set("hide_flood_zone", "1");
    if (weightsChanged()) for (const [k, v] of Object.entries(weights())) p.set("w_" + k, v);
    p.set("order", state.order);
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return p.toString();
  }

  // Indices of the rows that pass the filters (excluded sites are never in the table).
  function selected(includeExcluded) {
    const c = state.cols, f = filters(), out = [];
    const countries = new Set(f.country), uses = new Set(f.former_use);
    for (let i = 0; i < c.site_id.length; i++) {
      const feasible = c.feasible[i];
      if (!feasible && !includeExcluded) continue;
      if (countries.size && !countries.has(c.country[i])) continue;
      if (f.region && c.region_code[i] !== f.region) continue;
      if (f.departement && c.departement_code[i] !== f.departement) continue;
      if (uses.size && !uses.has(c.former_use[i])) continue;
      if (feasible && f.min_score > 0 && !(state.score[i] >= f.min_score)) continue;
      if (feasible && f.max_ttp && !(c.time_to_power_months[i] <= f.max_ttp)) continue;
      if (f.hide_polluted && c.pollution_status[i] === "confirmed") continue;
      if (f.hide_flood_zone && c.flood_zone[i] === 1) continue;
      out.push(i);
    }
    return out;
  }

  // Equal scores share a rank (1, 1, 3): a rank another site also holds is shown as "=3".
  function sharedRanks(rank) {
    const counts = new Map();
    for (const r of rank) if (r !== null && r !== undefined) counts.set(r, (counts.get(r) || 0) + 1);
    return rank.map((r) => r !== null && r !== undefined && counts.get(r) > 1);
  }
  function rankText(i) {
    const r = state.rank[i];
    if (r === null || r === undefined) return "–";
    return (state.shared[i] ? "=" : "") + G.fmt(r, 0);
  }

  const ORDER = {
    // Best score first is best rank first: ranks come from the full-precision scores, which the
    // map data rounds to 0.001 (ties there would put sites in another order than the exports).
    rank: (i) => [state.rank[i], 1], "-score": (i) => [state.rank[i], 1],
    site_cost: (i) => [state.cols.site_cost_eur_per_gpu_hour[i], 1],
    tco: (i) => [state.cols.tco_eur_per_gpu_hour[i], 1], time_to_power: (i) => [state.cols.time_to_power_months[i], 1],
    emissions: (i) => [state.cols.emissions_t_per_yr[i], 1], name: (i) => [state.cols.site_name[i], 1],
  };
  // Each row's key is read once, not twice per comparison (10,000 rows: ~140,000 comparisons).
  function sorted(rows) {
    const key = ORDER[state.order], ids = state.cols.site_id;
    if (!rows.length) return [];
    const dir = key(rows[0])[1], keys = new Map(rows.map((i) => [i, key(i)[0]]));
    return rows.slice().sort((a, b) => {
      const ka = keys.get(a), kb = keys.get(b);
      const na = ka === null || ka === undefined, nb = kb === null || kb === undefined;
      if (na !== nb) return na ? 1 : -1;
      if (!na && ka !== kb) return (ka < kb ? -1 : 1) * dir;
      return ids[a] - ids[b];
    });
  }

  function markerSize(largest) {
    const s = largest && largest > 0 ? largest : 1000;
    return 6 + 5 * (Math.log10(s) - 3);
  }
  function pick(arr, rows) { return rows.map((i) => arr[i]); }

  // The carbon and substation layers never change with filters, sizes or weights: built once
  // and passed as the same objects, so Plotly.react skips them on every redraw. They are only
  // added when asked for (even hidden, plotly would convert their 11,000 points each time).
  function staticTraces() {
    const wantCarbon = document.getElementById("layer-carbon").checked;
    const wantSubstations = document.getElementById("layer-substations").checked;
    const key = String(wantCarbon) + String(wantSubstations);
    if (state.staticTraces && state.staticKey === key) return state.staticTraces;
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
    state.staticTraces = out;
    state.staticKey = key;
    return out;
  }

  // Hover data of every site, built once per size and weights (not on every filter change):
  // [site id, rank text, score, full cost, time to power, emissions, site cost line, flags].
  function hoverData() {
    const c = state.cols, n = c.site_id.length, out = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = [c.site_id[i], rankText(i), state.score[i], c.tco_eur_per_gpu_hour[i], c.time_to_power_months[i],
        c.emissions_t_per_yr[i], siteCostText(i) + knownText(i), flagText(i)];
    }
    return out;
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

  // Zoom band of a map zoom: whole zoom levels below CELL_ZOOM, one band from there on.
  function zoomBand(zoom) { return Math.min(CELL_ZOOM, Math.max(0, Math.floor(zoom))); }
  // Web Mercator y of every site (radians), once per size, so grid cells are square on screen.
  function mercatorY(lat) {
    return lat.map((v) => (v === null || v === undefined ? null : Math.log(Math.tan(Math.PI / 4 + (v * Math.PI) / 360))));
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
      customdata: cells.map((k) => [k.n, rankText(k.best), state.score[k.best]]),
      marker: Object.assign({ size: cells.map((k) => Math.min(30, 5 + 3 * Math.log2(k.n))), opacity: 0.6,
        color: cells.map((k) => state.score[k.best]), showscale: false }, colour),
      name: G.interpolate(L.cells, { n: G.fmt(rest.length, 0), cells: G.fmt(cells.length, 0) }),
      legendgroup: "cells", hovertemplate: hovertemplate,
    };
  }

  function traces(rows, band) {
    const c = state.cols, out = staticTraces().slice();
    if (document.getElementById("show-excluded").checked) {
      const ex = selected(true).filter((i) => !c.feasible[i]);
      out.push({
        type: "scattermap", mode: "markers", lon: pick(c.longitude, ex), lat: pick(c.latitude, ex),
        text: pick(c.site_name, ex), customdata: ex.map((i) => reasonText(c.exclusion_reasons[i])),
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

  // Hover pieces that an older run may lack (no site cost, no availability flag): empty then.
  function siteCostText(i) {
    const v = state.cols.site_cost_eur_per_gpu_hour[i];
    return v === null || v === undefined ? "" : L.siteCost + ": " + G.fmt(v, 2) + " " + L.eurPerGpuh + "<br>";
  }
  function flagText(i) {
    return state.cols.may_be_unavailable[i] ? " · " + L.mayBeUnavailable : "";
  }

  function reasonText(codes) {
    return (codes || "").split(";").filter(Boolean).map((k) => cfg.exclusions[k] || k).join(", ");
  }

  function drawMap(rows) {
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
    return Plotly.react(mapDiv, data, layout, G.plotConfig).then(() => {
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

  function drawTable(rows) {
    const c = state.cols, tbody = document.querySelector("#ranked-table tbody");
    const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
    state.page = Math.min(Math.max(1, state.page), pages);
    const page = rows.slice((state.page - 1) * PAGE_SIZE, state.page * PAGE_SIZE);
    const frag = document.createDocumentFragment();
    for (const i of page) {
      const tr = document.createElement("tr");
      tr.dataset.siteId = c.site_id[i];
      tr.dataset.index = i;
      if (state.focus === i) tr.className = "focused";
      const link = cfg.urls.site.replace("/0/", "/" + c.site_id[i] + "/") + "?run=" + cfg.run + "&size=" + state.size;
      if (cfg.compareUrl) {
        const td = document.createElement("td");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.className = "compare-box";
        box.value = c.site_id[i];
        box.title = L.select;
        box.setAttribute("aria-label", L.select + ": " + c.site_name[i]);
        box.checked = state.selected.has(c.site_id[i]);
        box.disabled = !box.checked && state.selected.size >= cfg.compareMax;
        td.appendChild(box);
        tr.appendChild(td);
      }
      const cells = [
        rankText(i), null, c.country[i], cfg.formerUses[c.former_use[i]] || c.former_use[i],
        G.fmt(state.score[i], 1), G.fmt(c.site_cost_eur_per_gpu_hour[i], 2), G.fmt(c.tco_eur_per_gpu_hour[i], 2),
        G.fmt(c.time_to_power_months[i], 0), G.fmt(c.emissions_t_per_yr[i], 0), G.fmt(c.largest_size_h100e[i], 0),
        reasonText(c.exclusion_reasons[i]),
      ];
      cells.forEach((text, k) => {
        const td = document.createElement("td");
        if (k === 0) {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "focus-btn";
          b.textContent = text;
          b.title = state.shared[i] ? L.focus + " (" + L.shared + ")" : L.focus;
          b.setAttribute("aria-label", L.focus + ": " + c.site_name[i]);
          td.appendChild(b);
        } else if (k === 1) {
          const a = document.createElement("a");
          a.href = link;
          a.textContent = c.site_name[i];
          a.className = "site-link";
          td.appendChild(a);
          if (c.may_be_unavailable[i]) {
            const flag = document.createElement("span");
            flag.className = "flag";
            flag.textContent = " · " + L.mayBeUnavailable;
            td.appendChild(flag);
          }
        } else {
          td.textContent = text;
        }
        if (k === 0 || (k >= 4 && k <= 9)) td.className = "num";
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    if (!page.length) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = cfg.compareUrl ? 12 : 11;
      td.textContent = L.noRows;
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    document.getElementById("page-info").textContent = G.interpolate(L.pageOf, { page: state.page, pages: pages });
    document.getElementById("page-prev").disabled = state.page <= 1;
    document.getElementById("page-next").disabled = state.page >= pages;
    document.getElementById("table-summary").textContent = G.interpolate(L.shown, {
      shown: G.fmt(rows.length, 0), total: G.fmt(c.site_id.filter((_, i) => c.feasible[i]).length, 0),
    });
    document.querySelectorAll("#ranked-table button.sort").forEach((b) => {
      const on = b.dataset.order === state.order;
      b.classList.toggle("current", on);
      b.closest("th").setAttribute("aria-sort", on ? (b.dataset.order.startsWith("-") ? "descending" : "ascending") : "none");
    });
    document.getElementById("ranked-table").dataset.order = state.order;
  }

  function updateCompare() {
    if (!cfg.compareUrl) return;
    const holder = document.getElementById("compare-inputs");
    holder.replaceChildren(...[...state.selected].map((id) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "site";
      input.value = id;
      return input;
    }));
    document.getElementById("compare-size").value = state.size;
    document.getElementById("compare-button").disabled = state.selected.size < 2 || state.selected.size > cfg.compareMax;
    document.getElementById("compare-count").textContent = G.interpolate(L.selected, { n: state.selected.size });
  }

  function updateExports() {
    document.getElementById("export-csv").href = cfg.urls.sites + "?" + query({ format: "csv" });
    document.getElementById("export-geojson").href = cfg.urls.sites + "?" + query({ format: "geojson" });
  }

  function render(redrawMap) {
    const rows = sorted(selected(false));
    state.rows = rows;
    drawTable(rows);
    updateExports();
    updateCompare();
    return redrawMap === false ? Promise.resolve() : drawMap(rows);
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
    state.hover = hoverData();
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
    document.querySelectorAll("#ranked-table button.sort").forEach((b) => b.addEventListener("click", () => {
      state.order = b.dataset.order;
      state.page = 1;
      render(false);
    }));
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
      if (zoom !== undefined && zoomBand(zoom) !== state.band) drawMap(state.rows);
    });
    mapDiv.on("plotly_click", (ev) => {
      const pt = ev.points && ev.points[0];
      if (pt && pt.data.legendgroup === "cells") { // a cell opens up: zoom in on it
        Plotly.relayout(mapDiv, { "map.center": { lon: pt.lon, lat: pt.lat }, "map.zoom": Math.min(CELL_ZOOM, state.band + 2) });
        return;
      }
      if (pt && pt.customdata && pt.data.legendgroup === "sites") {
        window.location.href = cfg.urls.site.replace("/0/", "/" + pt.customdata[0] + "/") + "?run=" + cfg.run + "&size=" + state.size;
      }
    });
  }
  start();
})();
