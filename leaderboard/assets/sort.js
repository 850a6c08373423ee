/* Sortable leaderboard tables: click a column header to sort its table; click again to reverse.
   Cells carry their sort value in data-v (numbers as plain decimals); empty values always sort last.
   The first click puts the best value first (data-better="lower" → ascending, otherwise descending;
   text columns: A→Z). Ties keep their previous order (stable). No dependencies, works from file://. */
(function () {
  "use strict";

  function sortValue(row, index, numeric) {
    var cell = row.cells[index];
    var raw = cell ? cell.getAttribute("data-v") : null;
    if (raw === null || raw === "") { return null; }
    if (!numeric) { return raw; }
    var n = parseFloat(raw);
    return isNaN(n) ? null : n;
  }

  function firstDirection(th) {
    if (th.getAttribute("data-kind") !== "number") { return "ascending"; }
    return th.getAttribute("data-better") === "lower" ? "ascending" : "descending";
  }

  function sortBy(table, th) {
    var numeric = th.getAttribute("data-kind") === "number";
    var current = th.getAttribute("aria-sort");
    var dir;
    if (current === "ascending") { dir = "descending"; }
    else if (current === "descending") { dir = "ascending"; }
    else { dir = firstDirection(th); }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, i) {
      return { row: row, pos: i, v: sortValue(row, th.cellIndex, numeric) };
    });
    keyed.sort(function (a, b) {
      if (a.v === null || b.v === null) {
        if (a.v === b.v) { return a.pos - b.pos; }
        return a.v === null ? 1 : -1;
      }
      var c = numeric ? a.v - b.v : a.v.localeCompare(b.v);
      if (c === 0) { return a.pos - b.pos; }
      return dir === "ascending" ? c : -c;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].setAttribute("aria-sort", "none"); }
    th.setAttribute("aria-sort", dir);
  }

  function init() {
    var tables = document.querySelectorAll("table.sortable");
    Array.prototype.forEach.call(tables, function (table) {
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
        var button = th.querySelector("button");
        if (button) { button.addEventListener("click", function () { sortBy(table, th); }); }
      });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
