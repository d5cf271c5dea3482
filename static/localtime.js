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
