// The portfolio page's map (built on the server) on the offline base map.
(function () {
  "use strict";
  const G = window.Gigasite;
  const source = document.getElementById("portfolio-figure");
  const el = document.getElementById("portfolio-map");
  if (!source || !el) return;
  const fig = JSON.parse(source.textContent);
  const urls = JSON.parse(document.getElementById("portfolio-boundaries").textContent);
  async function draw() {
    try {
      const countries = await G.fetchJSON(urls.countries);
      fig.layout.map.layers = G.boundaryLayers(countries, null, false);
    } catch (err) {
      fig.layout.map.layers = [];  // the sites still show without the outlines
    }
    fig.layout.separators = G.separators;
    await Plotly.newPlot(el, fig.data, fig.layout, G.plotConfig);
    el.dataset.drawn = "1";
  }
  draw();
})();
