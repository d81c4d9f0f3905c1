// Header search: "/" focuses it; arrow keys move through results; Enter opens; Escape closes.
(function () {
  "use strict";
  function setup() {
    const box = document.getElementById("search-box");
    const list = document.getElementById("search-results");
    if (!box || !list) return;
    let active = -1;
    const items = () => Array.from(list.querySelectorAll("a.result"));
    function highlight(index) {
      const rows = items();
      rows.forEach((row, i) => { row.classList.toggle("active", i === index); row.setAttribute("aria-selected", i === index); });
      active = index;
      if (rows[index]) rows[index].scrollIntoView({ block: "nearest" });
    }
    function open(show) { list.classList.toggle("open", show); box.setAttribute("aria-expanded", show); }
    document.addEventListener("keydown", (event) => {
      if (event.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) {
        event.preventDefault(); box.focus(); box.select();
      }
    });
    box.addEventListener("keydown", (event) => {
      const rows = items();
      if (event.key === "ArrowDown") { event.preventDefault(); if (rows.length) { open(true); highlight(Math.min(active + 1, rows.length - 1)); } }
      else if (event.key === "ArrowUp") { event.preventDefault(); if (rows.length) highlight(Math.max(active - 1, 0)); }
      else if (event.key === "Enter") { event.preventDefault(); const row = rows[active >= 0 ? active : 0]; if (row) window.location.href = row.href; }
      else if (event.key === "Escape") { open(false); highlight(-1); }
    });
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target === list) { active = -1; open(box.value.trim() !== ""); if (items().length) highlight(0); }
    });
    document.addEventListener("click", (event) => { if (!list.contains(event.target) && event.target !== box) open(false); });
    box.addEventListener("focus", () => { if (box.value.trim() && list.children.length) open(true); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup); else setup();
})();
