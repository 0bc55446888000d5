// The plan form: period end and seasonality months follow the period; the team total adds up.
// Small and optional: the server computes the same on save.
(function () {
  "use strict";
  const form = document.getElementById("plan-form");
  if (!form) return;
  const kind = form.querySelector("[name=period_kind]");
  const start = form.querySelector("[name=period_start]");
  const end = form.querySelector("[name=period_end]");
  const seasonality = document.getElementById("seasonality");
  const monthName = new Intl.DateTimeFormat(document.documentElement.lang || "ru", {
    month: "long",
    year: "numeric",
  });

  function parse(value) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
    return match ? { y: +match[1], m: +match[2], d: +match[3] } : null;
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function periodEnd(kindValue, first) {
    let y = first.y;
    let m = first.m;
    if (kindValue === "year") m = 12;
    else if (kindValue === "quarter") m = Math.floor((first.m - 1) / 3) * 3 + 3;
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    return { y: y, m: m, d: last };
  }

  function update() {
    const first = parse(start && start.value);
    const kindValue = kind ? kind.value : "month";
    let last = parse(end && end.value);
    if (first && end) {
      const auto = periodEnd(kindValue, first);
      end.placeholder = auto.y + "-" + pad(auto.m) + "-" + pad(auto.d);
      if (!last) last = auto;
    }
    if (!seasonality) return;
    seasonality.hidden = kindValue === "month";
    const months = [];
    if (first && last) {
      let y = first.y;
      let m = first.m;
      while ((y < last.y || (y === last.y && m <= last.m)) && months.length < 12) {
        months.push({ y: y, m: m });
        m += 1;
        if (m > 12) {
          m = 1;
          y += 1;
        }
      }
    }
    seasonality.querySelectorAll(".field.season").forEach(function (row, index) {
      const month = months[index];
      row.hidden = !month;
      if (month) {
        const label = row.querySelector("[data-month-label]");
        const text = monthName.format(new Date(Date.UTC(month.y, month.m - 1, 15)));
        label.textContent = text.charAt(0).toUpperCase() + text.slice(1);
      }
    });
  }

  function number(text) {
    const cleaned = (text || "").replace(/[\s\u00a0\u202f%]/g, "").replace(",", ".");
    const value = parseFloat(cleaned);
    return isNaN(value) ? 0 : value;
  }

  function updateTotal() {
    const output = document.getElementById("team-total");
    if (!output) return;
    let total = 0;
    document.querySelectorAll(output.dataset.shares).forEach(function (input) {
      total += number(input.value);
    });
    total = Math.round(total * 100) / 100;
    output.textContent = total.toLocaleString(document.documentElement.lang || "ru") + " %";
    output.classList.toggle("bad", Math.abs(total - 100) > 0.001 && total !== 0);
    output.classList.toggle("ok", Math.abs(total - 100) <= 0.001);
  }

  // A team's plan is split among that team's salespeople only (the server refuses anyone
  // else): choosing a team shows its people, clears the others and shares the plan equally.
  const salesTeam = form.querySelector("[name=sales_team]");

  function equalShares(count) {
    // Hundredths of a percent by the largest remainder, so they add up to exactly 100.
    const base = Math.floor(10000 / count);
    const shares = [];
    for (let i = 0; i < count; i += 1) shares.push(base + (i < 10000 - base * count ? 1 : 0));
    return shares.map(function (n) {
      return (n / 100).toLocaleString(document.documentElement.lang || "ru");
    });
  }

  function chooseTeam() {
    const chosen = salesTeam ? salesTeam.value : "";
    const rows = Array.from(document.querySelectorAll("#team tr[data-team]"));
    const kept = rows.filter(function (row) {
      const inTeam = !chosen || row.dataset.team === chosen;
      row.hidden = !inTeam;
      if (!inTeam) row.querySelector("input.share").value = "";
      return inTeam;
    });
    const shares = equalShares(Math.max(kept.length, 1));
    kept.forEach(function (row, index) {
      row.querySelector("input.share").value = shares[index];
    });
    updateTotal();
    if (kept.length) {
      kept[0].querySelector("input.share").dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  if (salesTeam) salesTeam.addEventListener("change", chooseTeam);
  [kind, start, end].forEach(function (field) {
    if (field) field.addEventListener("input", update);
  });
  form.addEventListener("input", function (event) {
    if (event.target.classList.contains("share")) updateTotal();
  });
  update();
  updateTotal();
})();
