// 民情码 pages: the copy button (the page works without it: the link can be selected by hand).
"use strict";
for (const b of document.querySelectorAll("[data-copy]")) {
  b.addEventListener("click", async () => {
    const input = document.querySelector(b.dataset.copy);
    if (!input) return;
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(input.value);
        ok = true;
      }
    } catch (e) { ok = false; }
    if (!ok) {
      // Plain http or an old in-app browser: select the text and use the legacy command.
      input.focus();
      input.select();
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    }
    b.textContent = ok ? "已复制" : "请长按链接复制";
    b.dataset.copied = ok ? "1" : "0";
  });
}
