// Copy buttons: <button data-copy="text"> puts text on the clipboard (the
// invitation link). Without clipboard access the text is selected instead,
// so the user can copy it by hand. Loaded async: it only listens on
// document, so it need not delay DOMContentLoaded (and htmx's start).
(function () {
  "use strict";
  function copyBySelection(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  function selectTarget(button) {
    var target = document.getElementById(button.getAttribute("aria-controls") || "");
    if (!target) return;
    var range = document.createRange();
    range.selectNodeContents(target);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  function copied(button, ok) {
    button.textContent = ok ? "Copied" : "Press Ctrl+C to copy";
    button.setAttribute("data-copied", ok ? "true" : "false");
    if (!ok) selectTarget(button);
  }
  document.addEventListener("click", function (ev) {
    var button = ev.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button, true); },
        function () { copied(button, copyBySelection(text)); });
    } else {
      copied(button, copyBySelection(text));
    }
  });
})();
