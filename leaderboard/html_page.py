"""HTML building blocks: escaping, the page skeleton, sortable tables, key/value lists, JSON inside <script>.

Every string that can come from a results file goes through `esc` (text and attribute values alike); JSON embedded
in a <script> tag goes through `script_json`, which cannot close the tag. No external resources: the page works
from file:// and fetches nothing (a Content-Security-Policy says so to the browser too).
"""
from __future__ import annotations

import html
import json
from typing import Any

from leaderboard.tables import Cell, Column, Table

CSP = ("default-src 'none'; script-src 'self' file:; style-src 'self' file:; img-src 'self' file: data:; "
       "base-uri 'none'; form-action 'none'")


def esc(text: object) -> str:
    """Escape for HTML text and (double- or single-quoted) attribute values."""
    return html.escape(str(text), quote=True)


def script_json(obj: Any) -> str:
    """JSON safe inside <script type="application/json">: <, >, & and the JS line separators are \\u-escaped, so
    no "</script>" or "<!--" can appear. Keys sorted: deterministic."""
    text = json.dumps(obj, sort_keys=True, ensure_ascii=False, allow_nan=False)
    for ch, rep in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, rep)
    return text


def page(title: str, body: str, prefix: str = "", footer: str = "") -> str:
    """A complete HTML document; `prefix` is the relative path to the site root ("" or "../")."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="stylesheet" href="{prefix}assets/style.css">\n'
        f'<script src="{prefix}assets/sort.js" defer></script>\n'
        "</head>\n<body>\n"
        f"{body}\n"
        f"<footer>{footer}</footer>\n"
        "</body>\n</html>\n"
    )


def _data_value(cell: Cell) -> str:
    if cell.value is None:
        return ""
    if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
        return repr(float(cell.value))
    return str(cell.value)


def _best(table: Table) -> dict[int, float]:
    """Column index → its best value (by the column's `better`), for columns with at least two values."""
    best: dict[int, float] = {}
    for i, col in enumerate(table.columns):
        if col.kind != "number" or not col.better:
            continue
        vals = [float(r[i].value) for r in table.rows if isinstance(r[i].value, (int, float))]
        if len(vals) >= 2 and len(set(vals)) > 1:
            best[i] = max(vals) if col.better == "higher" else min(vals)
    return best


def _th(col: Column, sorted_dir: str) -> str:
    sub = f'<span class="sub">{esc(col.sub)}</span>' if col.sub else ""
    better = f' data-better="{esc(col.better)}"' if col.better else ""
    return (f'<th scope="col" class="{esc(col.kind)}" data-kind="{esc(col.kind)}" data-key="{esc(col.key)}"{better} '
            f'title="{esc(col.title or col.key)}" aria-sort="{sorted_dir}"><button type="button">{esc(col.label)}'
            f"{sub}</button></th>")


def _td(cell: Cell, col: Column, best: float | None, link_prefix: str) -> str:
    cls = "num" if col.kind == "number" else "text"
    if best is not None and isinstance(cell.value, (int, float)) and float(cell.value) == best:
        cls += " best"
    inner = esc(cell.text)
    if cell.href:
        inner = f'<a href="{esc(link_prefix + cell.href)}">{inner}</a>'
    title = f' title="{esc(cell.text)}"' if col.kind == "text" else ""
    return f'<td class="{cls}" data-v="{esc(_data_value(cell))}"{title}>{inner}</td>'


def table_html(table: Table, table_id: str, link_prefix: str = "", sorted_by: int | None = None,
               highlight: bool = True) -> str:
    """A sortable table; `sorted_by` marks the column the rows are already ordered by (descending); `highlight`
    marks each column's best value (only where rows are comparable runs)."""
    best = _best(table) if highlight else {}
    heads = "".join(_th(c, "descending" if i == sorted_by else "none") for i, c in enumerate(table.columns))
    body = "\n".join(
        "<tr>" + "".join(_td(cell, col, best.get(i), link_prefix)
                         for i, (cell, col) in enumerate(zip(row, table.columns))) + "</tr>"
        for row in table.rows)
    notes = ""
    if table.notes:
        notes = '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in table.notes) + "</ul>"
    return (f'<div class="table-wrap"><table class="sortable" id="{esc(table_id)}" data-table="{esc(table.key)}">\n'
            f"<thead><tr>{heads}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>\n{notes}")


def kv_html(items: dict[str, str]) -> str:
    if not items:
        return '<p class="note">none</p>'
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items.items())
    return f'<dl class="kv">{rows}</dl>'
