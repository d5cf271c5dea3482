// Small page helpers, no framework: local times, results scrolled into
// view, history rows that refresh themselves.

// Times in the reader's time zone. The script tells the server the zone
// (cookie "tz"), which writes every later page's <time> in it; on the
// first page seen in a zone it converts this page's times in place. Without
// script, times read in UTC and say so.
(function () {
  var tz;
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!tz) return;
  var cookie = "tz=" + encodeURIComponent(tz);
  var known = document.cookie.split("; ").indexOf(cookie) >= 0;
  document.cookie = cookie + "; path=/; max-age=31536000; samesite=lax";
  if (known) return;
  var fmt = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("time[datetime][data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) el.textContent = fmt.format(d);
    });
  });
})();

// Results of htmx actions marked data-scroll-into-view are brought into
// view where the user acted. (Copy buttons are static/copy.js.)
(function () {
  function reveal(root) {
    var el = root.querySelector ? root.querySelector("[data-scroll-into-view]") : null;
    if (root.matches && root.matches("[data-scroll-into-view]")) el = root;
    if (el) el.scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:load", function (e) { reveal(e.target); });
})();

(function () {
  // A delivery history row refreshes itself while the delivery is in flight
  // (data-row-poll); it asks to come back open when the reader opened it.
  // (The page's Content-Security-Policy forbids htmx's js: values.)
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail.elt;
    if (!elt.hasAttribute || !elt.hasAttribute("data-row-poll")) return;
    var row = elt.closest("details");
    e.detail.parameters.open = row && row.open ? "1" : "";
  });
})();
