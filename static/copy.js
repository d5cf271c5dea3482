// Copy buttons: <button data-copy="ID"> copies the text of the element with
// that id and says so beside itself; results of htmx actions marked
// data-scroll-into-view are brought into view where the user acted.
(function () {
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-copy]");
    if (!b) return;
    e.preventDefault();
    var src = document.getElementById(b.getAttribute("data-copy"));
    if (!src) return;
    var text = (src.value !== undefined ? src.value : src.textContent).trim();
    var done = function (msg) {
      var out = b.parentNode.querySelector("[data-copy-status]");
      if (out) out.textContent = msg;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done("Copied."); }, function () { select(src); done("Selected: press Ctrl+C to copy."); });
    } else {
      select(src);
      done(document.execCommand && document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C to copy.");
    }
  });
  function select(el) {
    if (el.select) { el.select(); return; }
    var r = document.createRange(); r.selectNodeContents(el);
    var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
  }
  function reveal(root) {
    var el = root.querySelector ? root.querySelector("[data-scroll-into-view]") : null;
    if (root.matches && root.matches("[data-scroll-into-view]")) el = root;
    if (el) el.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:load", function (e) { reveal(e.target); });
})();
