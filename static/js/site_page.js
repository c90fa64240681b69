// The site page's figures (built on the server) plus the offline base map.
(function () {
  "use strict";
  const G = window.Gigasite;
  const figures = JSON.parse(document.getElementById("site-figures").textContent);
  const urls = JSON.parse(document.getElementById("site-boundaries").textContent);
  async function drawMap() {
    const el = document.getElementById("site-map");
    if (!el || !figures.map) return;
    const countries = await G.fetchJSON(urls.countries);
    const fig = figures.map;
    fig.layout.map.layers = G.boundaryLayers(countries, null, false);
    fig.layout.separators = G.separators;
    await Plotly.newPlot(el, fig.data, fig.layout, G.plotConfig);
    el.dataset.drawn = "1";
  }
  for (const [id, key] of [["breakdown-chart", "breakdown"], ["ladder-chart", "ladder"]]) {
    const el = document.getElementById(id);
    if (el && figures[key]) {
      figures[key].layout.separators = G.separators;
      Plotly.newPlot(el, figures[key].data, figures[key].layout, { displaylogo: false, responsive: true });
    }
  }
  drawMap();
})();
