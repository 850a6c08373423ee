"""The same tables as CSV (one file per table, complete column keys as headers) and Markdown (one document).

CSV: numbers with four decimals, empty for a missing value; a text cell that a spreadsheet would run as a formula
(starting with =, +, -, @, tab or CR) gets a leading apostrophe. Markdown: every cell and heading is escaped, so a
name cannot inject HTML, links or table structure.
"""
from __future__ import annotations

import csv
import io
import re

from leaderboard.tables import Cell, Table

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(cell: Cell) -> str:
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return f"{v:.4f}"
    text = str(v)
    return "'" + text if text.startswith(FORMULA_START) else text


def table_csv(table: Table) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([csv_value(Cell(c.key, c.key)) for c in table.columns])
    for row in table.rows:
        w.writerow([csv_value(c) for c in row])
    return buf.getvalue()


# Inline Markdown that could change meaning inside a table cell or heading: emphasis, code, links, cell breaks.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


def md_escape(text: object) -> str:
    """Inline Markdown text: HTML metacharacters as entities, Markdown punctuation backslash-escaped, one line."""
    s = str(text).replace("\r", " ").replace("\n", " ")
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def table_markdown(table: Table) -> str:
    head = [md_escape(c.label + (f" ({c.sub})" if c.sub else "")) for c in table.columns]
    align = ["---" if c.kind == "text" else "---:" for c in table.columns]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    for row in table.rows:
        lines.append("| " + " | ".join(md_escape(c.text) for c in row) + " |")
    notes = [f"- {md_escape(n)}" for n in table.notes]
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "") + "\n"


def markdown_document(title: str, tables: list[Table], preface: list[str]) -> str:
    parts = [f"# {md_escape(title)}", ""]
    parts += [md_escape(p) + "\n" for p in preface]
    for t in tables:
        heading = t.title if t.key in ("overall", "na_by_task") else f"Task: {t.title}"
        parts += [f"## {md_escape(heading)}", "", table_markdown(t)]
    return "\n".join(parts).rstrip("\n") + "\n"
