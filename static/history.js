// A delivery history row refreshes itself while the delivery is in flight
// (data-row-poll); it asks to come back open when the reader opened it.
// (The page's Content-Security-Policy forbids htmx's js: values.)
document.addEventListener("htmx:configRequest", function (e) {
  var elt = e.detail.elt;
  if (!elt.hasAttribute || !elt.hasAttribute("data-row-poll")) return;
  var row = elt.closest("details");
  e.detail.parameters.open = row && row.open ? "1" : "";
});
