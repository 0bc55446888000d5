// Draw the Plotly figures the server built (salesplan/**/charts.py) with the vendored plotly.js
// (static/vendor/plotly-*-salesplan.min.js, its Russian locale built in): the toolbar speaks
// the page's language. Figures that arrive later in an htmx swap are drawn too.
(function () {
  "use strict";
  const language = (document.documentElement.lang || "ru").toLowerCase().split("-")[0];
  const config = {
    responsive: true,
    displaylogo: false,
    locale: language === "en" ? "en" : language,
    modeBarButtonsToRemove: ["select2d", "lasso2d"],
  };

  function draw(root) {
    if (typeof Plotly === "undefined") return;
    const elements = root.matches && root.matches("[data-plotly]") ? [root] : [];
    root.querySelectorAll("[data-plotly]").forEach(function (element) { elements.push(element); });
    elements.forEach(function (element) {
      const source = document.getElementById(element.dataset.plotly);
      if (!source) return;
      const figure = JSON.parse(source.textContent);
      Plotly.newPlot(element, figure.data, figure.layout, config);
    });
  }

  window.salesplanCharts = { draw: draw, config: config };
  draw(document);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.querySelectorAll) draw(event.target);
  });
})();
