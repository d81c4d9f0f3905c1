// Call queue keys: j/k move through the calls, 1–5 satisfaction, a/n/c/w/x/b record an outcome,
// t notes, Escape leaves a field. An outcome that needs a time or a reason focuses its field first;
// Enter there records it.
(function () {
  "use strict";
  const typing = () => ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName) && document.activeElement.type !== "radio";
  let pending = null; // the outcome button waiting for its field

  function rows() { return Array.from(document.querySelectorAll("#call-list .call-row")); }
  function move(step) {
    const list = rows();
    if (!list.length) return;
    const current = list.findIndex((row) => row.classList.contains("active"));
    const next = list[Math.min(Math.max(current + step, 0), list.length - 1)];
    if (next && next !== list[current]) { next.focus(); next.click(); }
  }
  // A click, not requestSubmit(): htmx sends the value of the button that was clicked.
  function submit(button) { if (button && document.body.contains(button)) button.click(); }
  function press(button) {
    const needs = button.dataset.needs && document.getElementById(button.dataset.needs);
    if (needs && !needs.value) { pending = button; needs.focus(); return; }
    submit(button);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const form = document.getElementById("outcome-form");
    if (typing()) {
      if (event.key === "Escape") { document.activeElement.blur(); pending = null; }
      else if (event.key === "Enter" && pending && document.activeElement.tagName !== "TEXTAREA") { event.preventDefault(); submit(pending); pending = null; }
      return;
    }
    const key = event.key.toLowerCase();
    if (key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(1); return; }
    if (key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); return; }
    if (!form) return;
    if (/^[1-5]$/.test(key)) { const radio = form.querySelector(`#sat-${key}`); if (radio) { radio.checked = true; radio.focus(); } event.preventDefault(); return; }
    if (key === "t") { event.preventDefault(); form.querySelector("textarea").focus(); return; }
    const button = form.querySelector(`button[data-key="${key}"]`);
    if (button) { event.preventDefault(); press(button); }
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "workspace") return;
    pending = null;
    const active = document.querySelector("#call-list .call-row.active");
    if (active) active.scrollIntoView({ block: "nearest" });
    const error = document.querySelector("#outcome-form .field-error");
    if (error) { const field = document.getElementById(`id_${error.dataset.field}`) || document.getElementById("sat-1"); if (field) field.focus(); }
  });
})();
