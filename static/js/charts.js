// Draw the Plotly figures the server built (salesplan/charts.py) with the vendored plotly.js.
(function () {
  "use strict";
  function draw(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll("[data-plotly]").forEach(function (element) {
      const source = document.getElementById(element.dataset.plotly);
      if (!source) return;
      const figure = JSON.parse(source.textContent);
      Plotly.newPlot(element, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["select2d", "lasso2d"],
      });
    });
  }
  draw(document);
})();
