"""The site's pages: index.html (tables, plots, downloads) and one page per model (every run's settings and tasks)."""
from __future__ import annotations

from dataclasses import dataclass

from leaderboard.html_page import esc, kv_html, page, script_json, table_html
from leaderboard.labels import file_name, model_slug
from leaderboard.model import Entry
from leaderboard.tables import Table, run_tasks_table

EXPLAIN = ("NA: VBench Normalized Average (%), higher is better. Dimension columns: raw VBench values in %; every "
           "column holds one metric backend (named under the header), so scores from different backends never "
           "share a column. Condition fidelity is reported next to NA, never folded into it (↑ higher is better, "
           "↓ lower is better). Click a column header to sort.")


@dataclass(frozen=True)
class Plot:
    file: str  # relative path, e.g. "plots/na_by_task.svg"
    name: str  # short, for the downloads list
    svg: str
    caption: str


def table_file(table: Table) -> str:
    return f"tables/{table.key}.csv" if table.key in ("overall", "na_by_task") else f"tables/task-{file_name(table.key)}.csv"


def table_id(table: Table) -> str:
    return f"t-{table.key.replace('_', '-')}" if table.key in ("overall", "na_by_task") else f"t-task-{file_name(table.key)}"


def _first_na(table: Table) -> int | None:
    return next((i for i, c in enumerate(table.columns) if c.key.startswith("NA [")), None)


def _table_json(table: Table) -> dict:
    return {"key": table.key, "title": table.title,
            "columns": [{"key": c.key, "label": c.label, "sub": c.sub} for c in table.columns],
            "rows": [[c.value for c in row] for row in table.rows]}


def _summary(entries: list[Entry]) -> str:
    models = sorted({e.model for e in entries})
    tasks = sorted({t for e in entries for t in e.tasks})
    suites = sorted({e.suite[:12] for e in entries if e.suite})
    return (f"{len(entries)} run{'s' * (len(entries) != 1)} of {len(models)} model{'s' * (len(models) != 1)} · "
            f"{len(tasks)} task{'s' * (len(tasks) != 1)} · suite {', '.join(suites) or 'unknown'}")


def index_page(title: str, entries: list[Entry], tables: list[Table], plots: list[Plot],
               skipped: list[tuple[str, str]], footer: str, task_links: dict[str, str] | None = None) -> str:
    """`task_links`: task → its gallery page, linked from the task's section."""
    task_links = task_links or {}
    overall, by_task, per_task = tables[0], tables[1], tables[2:]
    nav = ['<a href="#overall">Overall</a>', '<a href="#plots">Plots</a>', '<a href="#na-by-task">NA by task</a>']
    nav += [f'<a href="#{esc(table_id(t))}-section">{esc(t.title)}</a>' for t in per_task]
    nav += ['<a href="#models">Models</a>', '<a href="#downloads">Downloads</a>']
    if skipped:
        nav.append('<a href="#skipped">Skipped files</a>')
    figures = "".join(
        f'<figure id="fig-{esc(p.file.split("/")[-1].removesuffix(".svg"))}">{p.svg}'
        f'<figcaption>{esc(p.caption)} <a href="{esc(p.file)}">SVG</a></figcaption></figure>' for p in plots)
    tasks_html = "".join(
        f'<section id="{esc(table_id(t))}-section"><h3>Task: {esc(t.title)}</h3>'
        + (f'<p><a class="gallery-link" href="{esc(task_links[t.key])}">Gallery: conditions and outputs</a></p>'
           if t.key in task_links else "") +
        f"{table_html(t, table_id(t), sorted_by=_first_na(t))}</section>\n" for t in per_task)
    by_model: dict[str, int] = {}
    for e in entries:
        by_model[e.model] = by_model.get(e.model, 0) + 1
    models = "".join(f'<li><a href="models/{esc(model_slug(m))}.html">{esc(m)}</a> — {n} run{"s" * (n != 1)}</li>'
                     for m, n in sorted(by_model.items()))
    downloads = [("leaderboard.md", "all tables as Markdown")]
    downloads += [(table_file(t), f"{t.title} (CSV)") for t in tables]
    downloads += [(p.file, f"{p.name} (SVG)") for p in plots]
    dl = "".join(f'<li><a href="{esc(f)}">{esc(f)}</a> — {esc(what)}</li>' for f, what in downloads)
    skipped_html = ""
    if skipped:
        items = "".join(f"<li><code>{esc(p)}</code><pre>{esc(why)}</pre></li>" for p, why in skipped)
        skipped_html = (f'<section id="skipped"><h2>Skipped files</h2><p class="note">These inputs were not valid '
                        f"results files and are not in the tables.</p><ul>{items}</ul></section>")
    data = script_json({"title": title, "tables": [_table_json(t) for t in tables]})
    body = f"""<header class="top"><h1>{esc(title)}</h1><p>{esc(_summary(entries))}</p></header>
<nav class="sections">{"".join(nav)}</nav>
<main>
<p class="lead">{esc(EXPLAIN)}</p>
<section id="overall"><h2>Overall</h2>
<p class="note">Overall NA: the mean of the run's task NAs. Overall fidelity: each measure's mean over the tasks that
report it (the task count is part of the column).</p>
{table_html(overall, table_id(overall), sorted_by=_first_na(overall))}</section>
<section id="plots"><h2>Plots</h2><div class="plots">{figures}</div></section>
<section id="na-by-task"><h2>NA by task</h2>{table_html(by_task, table_id(by_task))}</section>
<section id="tasks"><h2>Tasks</h2>
{tasks_html}</section>
<section id="models"><h2>Models</h2><ul>{models}</ul></section>
<section id="downloads"><h2>Downloads</h2><ul>{dl}</ul></section>
{skipped_html}
<script type="application/json" id="leaderboard-data">{data}</script>
</main>"""
    return page(title, body, footer=footer)


def model_page(title: str, model: str, runs: list[Entry], labels: dict[int, str], tasks: list[str],
               footer: str, gallery: str = "") -> str:
    """`gallery`: the HTML of this model's galleries, placed after its runs."""
    sections = []
    for i, e in enumerate(runs):
        details = "".join(f"<div><h3>{esc(name)}</h3>{kv_html(items)}</div>" for name, items in e.details.items())
        na = "—" if e.na is None else f"{e.na:.2f}"
        tasks_table = table_html(run_tasks_table(e, tasks), f"run-{i + 1}-tasks", highlight=False)
        nfe = "—" if e.nfe is None else str(e.nfe)
        secs = "—" if e.seconds_per_video is None else f"{e.seconds_per_video:.2f}"
        sections.append(
            f'<section class="run" id="run-{i + 1}"><h2>{esc(labels[id(e)])}</h2>'
            f'<p class="lead">Overall NA {esc(na)} % ({esc(e.na_convention)} convention) · steps {esc(nfe)} · '
            f'{esc(secs)} s per video</p><h3>Tasks</h3>{tasks_table}<div class="details">{details}</div></section>')
    body = (f'<header class="top"><p><a href="../index.html">← {esc(title)}</a></p><h1>{esc(model)}</h1>'
            f'<p>{len(runs)} run{"s" * (len(runs) != 1)}</p></header>\n<main>\n' + "\n".join(sections) + gallery + "\n</main>")
    return page(f"{model} — {title}", body, prefix="../", footer=footer)
