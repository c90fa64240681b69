// Shared map helpers: an offline base map drawn from the app's own GeoJSON, number formats.
(function () {
  "use strict";
  const G = (window.Gigasite = window.Gigasite || {});
  const lang = document.documentElement.lang || "en";

  // A MapLibre style with only a background: nothing is fetched from a tile or font server.
  // The empty GeoJSON source is there because plotly drops an empty "sources" object when it
  // updates a figure, and MapLibre then rejects the style.
  const OFFLINE_STYLE = {
    version: 8,
    sources: { none: { type: "geojson", data: { type: "FeatureCollection", features: [] } } },
    layers: [{ id: "bg", type: "background", paint: { "background-color": "#dde7ee" } }],
  };
  G.offlineStyle = function () { return OFFLINE_STYLE; };

  G.fetchJSON = async function (url) {
    const resp = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!resp.ok) {
      let message = resp.status + " " + resp.statusText;
      try { message = (await resp.json()).error || message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    return resp.json();
  };

  // Country fills and outlines (below the traces), and optional département outlines.
  G.boundaryLayers = function (countries, departements, showDepartements) {
    const layers = [
      { sourcetype: "geojson", source: countries, type: "fill", color: "#ffffff", below: "traces", opacity: 1 },
      { sourcetype: "geojson", source: countries, type: "line", color: "#8a99a8", line: { width: 0.8 }, below: "traces" },
    ];
    if (departements) {
      layers.push({ sourcetype: "geojson", source: departements, type: "line", color: "#b8c3ce",
        line: { width: 0.5 }, below: "traces", visible: !!showDepartements });
    }
    return layers;
  };

  G.mapLayout = function (layers, center, zoom, online) {
    const map = { center: center, zoom: zoom };
    if (online) {
      map.style = "open-street-map";
    } else {
      map.style = G.offlineStyle();
      map.layers = layers;
    }
    return map;
  };

  const formats = {};
  G.fmt = function (value, digits) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    const key = String(digits);
    if (!formats[key]) formats[key] = new Intl.NumberFormat(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    return formats[key].format(value);
  };

  G.interpolate = function (text, values) {
    return text.replace(/%\((\w+)\)s/g, (m, k) => (k in values ? values[k] : m));
  };

  G.plotConfig = { responsive: true, displaylogo: false, scrollZoom: true };
  // Decimal and thousands separators of plotly's own number formats (hover, axes).
  G.separators = lang.startsWith("fr") ? ", " : ".,";
})();
