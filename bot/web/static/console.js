// Console pages: small progressive enhancements only (every page works without this file).
"use strict";
for (const b of document.querySelectorAll("[data-print]")) {
  b.addEventListener("click", () => window.print());
}
