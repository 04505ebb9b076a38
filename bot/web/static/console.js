// Console pages: small progressive enhancements only (every page works without this file).
"use strict";
for (const b of document.querySelectorAll("[data-print]")) {
  b.addEventListener("click", () => window.print());
}
for (const all of document.querySelectorAll("[data-check-all]")) {
  all.addEventListener("change", () => {
    for (const box of all.closest("form").querySelectorAll('input[type="checkbox"][name="id"], input[type="checkbox"][name="case"]')) {
      box.checked = all.checked;
    }
  });
}
for (const f of document.querySelectorAll("form[data-confirm]")) {
  f.addEventListener("submit", (e) => { if (!window.confirm(f.dataset.confirm)) e.preventDefault(); });
}
