// Small accessibility and layout enhancements, on load and after each htmx
// swap. Loaded async: it only reads and marks the document.
//
// Labelled table cells: on phones (app.css, max-width 600px) a table's rows
// become cards and its headings are hidden, so each body cell of a
// table.table shows its column's heading from data-label. Columns whose
// heading is only for screen readers (the actions column) get no label.
// Without JavaScript the cells stack unlabelled.
//
// Scrollable code blocks: a <pre> scrolls once its text is taller than its
// max-height (app.css), so every <pre> is focusable (tabindex=0) and
// keyboard users can scroll it.
(function () {
  "use strict";
  function visibleText(th) {
    var copy = th.cloneNode(true);
    copy.querySelectorAll(".visually-hidden").forEach(function (el) { el.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }
  function labelCells(root) {
    root.querySelectorAll("table.table").forEach(function (table) {
      var head = table.tHead && table.tHead.rows[0];
      if (!head) return;
      var labels = [];
      Array.prototype.forEach.call(head.cells, function (th) {
        var text = visibleText(th);
        for (var i = 0; i < (th.colSpan || 1); i++) labels.push(text);
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var col = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            var text = labels[col];
            if (text && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", text);
            col += cell.colSpan || 1;
          });
        });
      });
    });
  }
  function focusableScrollers(root) {
    root.querySelectorAll("pre:not([tabindex])").forEach(function (pre) {
      pre.setAttribute("tabindex", "0");
    });
  }
  function all() {
    labelCells(document);
    focusableScrollers(document);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", all);
  } else {
    all();
  }
  document.addEventListener("htmx:afterSettle", all);
})();
