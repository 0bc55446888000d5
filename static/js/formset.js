// "Add a stage": clone the formset's empty row and count it in TOTAL_FORMS.
(function () {
  "use strict";
  const button = document.getElementById("add-stage");
  const template = document.getElementById("stage-row-template");
  const rows = document.getElementById("stage-rows");
  if (!button || !template || !rows) return;
  const prefix = button.dataset.prefix;
  const total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  button.addEventListener("click", function () {
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    const row = rows.lastElementChild;
    row.querySelector("td.num").textContent = String(index + 1);
    total.value = String(index + 1);
    const name = row.querySelector("input[type=text]");
    if (name) name.focus();
  });
})();
