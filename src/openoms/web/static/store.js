// The store app's own script: countdowns (offers, express deadlines, reservations), and
// counting scans on the pick list.
// The pages work without it (a scan is then counted by the server); htmx polls the offers.
"use strict";

function countdown(left) {
  // M:SS under an hour, H:MM:SS beyond (as the templates write it)
  const two = (n) => String(n).padStart(2, "0");
  if (left < 3600) return `${Math.floor(left / 60)}:${two(left % 60)}`;
  return `${Math.floor(left / 3600)}:${two(Math.floor((left % 3600) / 60))}:${two(left % 60)}`;
}

function tickCountdowns() {
  const now = Date.now();
  for (const time of document.querySelectorAll("time[data-expires]")) {
    const left = Math.floor((Date.parse(time.dataset.expires) - now) / 1000);
    time.textContent = left > 0 ? countdown(left) : time.dataset.expired;
  }
}

function markDone(row) {
  const input = row.querySelector('input[type="number"]');
  row.classList.toggle("done", Number(input.value) >= Number(row.dataset.units));
}

function addTo(row, units) {
  const input = row.querySelector('input[type="number"]');
  const max = Number(row.dataset.units);
  input.value = units === "all" ? max : Math.min(max, Number(input.value || 0) + units);
  markDone(row);
}

function setUpPicking(form) {
  const scan = form.querySelector("#scan");
  const result = form.querySelector("#scan-result");
  const rows = [...form.querySelectorAll("tr[data-barcode]")];
  rows.forEach(markDone);
  for (const row of rows) {
    row.querySelector(".add-one").addEventListener("click", () => addTo(row, 1));
    row.querySelector(".add-all").addEventListener("click", () => addTo(row, "all"));
    row.querySelector('input[type="number"]').addEventListener("input", () => markDone(row));
  }
  function count(event) {
    const code = scan.value.trim();
    if (!code) return;
    event.preventDefault();
    const row = rows.find((r) => r.dataset.barcode === code);
    if (row) {
      addTo(row, 1);
      result.textContent = scan.dataset.scanned.replace("{name}", row.dataset.name);
    } else {
      result.textContent = scan.dataset.unknown.replace("{code}", code);
    }
    scan.value = "";
    scan.focus();
  }
  // A keyboard-wedge scanner types the code, then Enter.
  scan.addEventListener("keydown", (event) => { if (event.key === "Enter") count(event); });
  form.querySelector('button[name="add"]').addEventListener("click", count);
}

document.addEventListener("DOMContentLoaded", () => {
  tickCountdowns();
  setInterval(tickCountdowns, 1000);
  const form = document.getElementById("pick-form");
  if (form) setUpPicking(form);
});
