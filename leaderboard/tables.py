"""Entries → tables (columns + rows of cells), shared by the HTML site, the Markdown and the CSV exports.

A column's key names everything that makes its values comparable: a dimension column is keyed by dimension AND
metric backend ("dynamic_degree [dis_flow_offline]"), an NA column by its convention and the backend of every
dimension it averages. Rows whose scores come from different backends land in different columns (empty elsewhere).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

from leaderboard.labels import entry_labels, model_slug
from leaderboard.model import DimValue, Entry, TaskView

# VBench's dimension order (uvcbench.md); unknown dimensions follow, sorted.
DIMENSION_ORDER = ("subject_consistency", "background_consistency", "aesthetic_quality", "imaging_quality",
                   "motion_smoothness", "dynamic_degree")
# The paper's table order for the single tasks; other tasks follow in the task registry's order.
PAPER_TASK_ORDER = ("depth", "pose", "flow", "scribble", "gray", "outpainting", "extension", "r2v")
# Fidelity measures where smaller is better (errors, distances); every other measure: larger is better.
LOWER_IS_BETTER_SUFFIXES = ("_epe", "_l1", "_error", "_distance", "epe_normalized")

Kind = Literal["text", "number"]


@dataclass(frozen=True)
class Column:
    """key: unique and complete (goes into CSV headers); label/sub: short header text; title: the full meaning."""

    key: str
    label: str
    kind: Kind = "number"
    sub: str = ""
    title: str = ""
    better: Literal["higher", "lower", ""] = ""


@dataclass(frozen=True)
class Cell:
    value: float | str | None
    text: str
    href: str = ""


@dataclass(frozen=True)
class Table:
    key: str  # "overall", "na_by_task" or a task name
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    notes: tuple[str, ...] = field(default_factory=tuple)


def fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def fmt_measure(value: float | None) -> str:
    """Fidelity measures mix scales (PSNR in dB, SSIM/F1 in [0, 1]): two decimals from 10 up, three below."""
    if value is None:
        return "—"
    return f"{value:.2f}" if abs(value) >= 10 else f"{value:.3f}"


def dim_order(dims: Iterable[str]) -> list[str]:
    known = [d for d in DIMENSION_ORDER if d in dims]
    return known + sorted(set(dims) - set(DIMENSION_ORDER))


def dim_key(dim: str, backend: str) -> str:
    return f"{dim} [{backend or 'unknown backend'}]"


OFFICIAL_READING = "vace_keep_last"


def na_parts(convention: str, na_dims: tuple[tuple[str, str], ...], suite: str = "",
             reading: str = OFFICIAL_READING) -> tuple[str, ...]:
    """What makes NAs comparable: the convention, the suite (overall NA: a mean over the suite's tasks), how the cases
    were read (named only when not the official reading) and each averaged dimension's backend, in VBench's order."""
    backends = dict(na_dims)
    return (convention, *([f"suite {suite[:12]}"] if suite else []),
            *([f"cases {reading}"] if reading != OFFICIAL_READING else []),
            *(f"{d}={backends[d] or '?'}" for d in dim_order(backends)))


def na_profile(parts: tuple[str, ...]) -> str:
    """The NA column key, e.g. "NA [vace | suite 1a2b3c4d5e6f | subject_consistency=dino_vitb16 ...]"."""
    head = [p for p in parts if "=" not in p]
    dims = " ".join(p for p in parts if "=" in p)
    return f"NA [{' | '.join(head + ([dims] if dims else []))}]"


def better_of(measure: str) -> Literal["higher", "lower"]:
    return "lower" if measure.endswith(LOWER_IS_BETTER_SUFFIXES) else "higher"


@dataclass(frozen=True)
class _Source:
    """What one row reads, overall or of one task. fidelity: column key → (label, sub, value)."""

    na: float | None
    na_parts: tuple[str, ...]
    convention: str
    dims: dict[str, DimValue]
    fidelity: dict[str, tuple[str, str, float]]
    cases: tuple[int, int] | None = None  # (scored, total)

    @property
    def na_key(self) -> str:
        return na_profile(self.na_parts)


def _na_dims(names: tuple[str, ...], dims: dict[str, DimValue]) -> tuple[tuple[str, str], ...]:
    return tuple((d, dims[d].backend if d in dims else "") for d in names)


def overall_fidelity(entry: Entry) -> dict[str, tuple[str, str, float]]:
    """Each fidelity measure averaged over the tasks that report it; the task count is part of the column key, so
    means over different task sets do not share a column."""
    values: dict[str, list[float]] = {}
    for t in entry.tasks.values():
        for m, v in t.fidelity.items():
            values.setdefault(m, []).append(v)
    return {f"fidelity: {m} [mean of {len(vs)} tasks]": (m, f"mean of {len(vs)} tasks", sum(vs) / len(vs))
            for m, vs in values.items()}


def task_fidelity(view: TaskView) -> dict[str, tuple[str, str, float]]:
    return {f"fidelity: {m}": (m, "fidelity", v) for m, v in view.fidelity.items()}


def _na_columns(sources: list[_Source]) -> tuple[list[Column], list[str]]:
    """One NA column per profile, the most common first (ties: by key). With several, a note per column names
    only what differs between them."""
    counts: dict[str, int] = {}
    parts: dict[str, tuple[str, ...]] = {}
    for s in sources:
        counts[s.na_key] = counts.get(s.na_key, 0) + 1
        parts[s.na_key] = s.na_parts
    keys = sorted(counts, key=lambda k: (-counts[k], k))
    common = set.intersection(*(set(p) for p in parts.values())) if parts else set()
    cols, notes = [], []
    for i, k in enumerate(keys):
        tag = f" ({chr(ord('A') + i)})" if len(keys) > 1 else ""
        cols.append(Column(k, "NA" + tag, sub=f"% · {parts[k][0]}", title=k, better="higher"))
        if len(keys) > 1:
            differs = [p for p in parts[k] if p not in common] or ["(the same parts, fewer dimensions)"]
            notes.append(f"NA{tag}: {', '.join(differs)}")
    if len(keys) > 1:
        notes.insert(0, "Rows were scored with different NA conventions, suites or metric backends; their NAs are "
                        "in separate columns and must not be compared across them. Columns differ in:")
    return cols, notes


def _dim_columns(sources: list[_Source]) -> list[Column]:
    pairs = {(d, v.backend) for s in sources for d, v in s.dims.items()}
    order = {d: i for i, d in enumerate(dim_order({d for d, _ in pairs}))}
    cols = []
    for d, b in sorted(pairs, key=lambda p: (order[p[0]], p[1])):
        cols.append(Column(dim_key(d, b), d.replace("_", " "), sub=f"% · {b or 'unknown backend'}",
                           title=f"{d}, raw VBench value in %, metric backend {b or 'unknown'}", better="higher"))
    return cols


def _fidelity_columns(sources: list[_Source]) -> list[Column]:
    found = {k: (m, sub) for s in sources for k, (m, sub, _) in s.fidelity.items()}
    return [Column(k, m.replace("_", " "), sub=f"{sub} · {'↓' if better_of(m) == 'lower' else '↑'}",
                   title=f"condition fidelity {m} ({sub}; {better_of(m)} is better; not part of NA)",
                   better=better_of(m)) for k, (m, sub) in sorted(found.items())]


_RUN_COLUMN = Column("model", "Model", kind="text", title="model (settings that differ between runs of the same model)")
_CASES_COLUMN = Column("cases", "Scored", sub="cases", title="cases scored (of the task's cases)")
_COST_COLUMNS = (
    Column("nfe", "Steps", sub="NFE", title="sampling steps (network function evaluations)", better="lower"),
    Column("seconds_per_video", "Wall time", sub="s / video", title="wall-clock seconds per generated video",
           better="lower"),
)


def _cost_cells(e: Entry) -> list[Cell]:
    secs = e.seconds_per_video
    return [Cell(e.nfe, "—" if e.nfe is None else str(e.nfe)),
            Cell(secs, fmt(secs, 1 if (secs or 0) >= 10 else 2))]


def _score_cells(s: _Source, columns: list[Column]) -> list[Cell]:
    cells = {c.key: Cell(None, "—") for c in columns}
    cells[s.na_key] = Cell(s.na, fmt(s.na, 2))
    for d, v in s.dims.items():
        cells[dim_key(d, v.backend)] = Cell(100.0 * v.raw, fmt(100.0 * v.raw, 2))
    for k, (_, _, v) in s.fidelity.items():
        cells[k] = Cell(v, fmt_measure(v))
    out = [cells[c.key] for c in columns]
    if s.cases is not None:
        out.append(Cell(s.cases[0], f"{s.cases[0]}/{s.cases[1]}"))
    return out


def _ranked(rows: list[tuple[Cell, ...]], n_na: int) -> list[tuple[Cell, ...]]:
    """Best first: by the first NA column that has a value (descending), missing last, then by label."""

    def key(row: tuple[Cell, ...]) -> tuple:
        nas = [c.value for c in row[1:1 + n_na]]
        first = next(((i, v) for i, v in enumerate(nas) if isinstance(v, float)), (n_na, 0.0))
        return (first[0], -first[1], str(row[0].value))

    return sorted(rows, key=key)


def _table(key: str, title: str, first: Column, firsts: list[Cell], sources: list[_Source],
           costs: list[list[Cell]] | None, ranked: bool = True) -> Table:
    """Rows: first cell, NA column(s), dimensions, fidelity, [scored cases], [steps, wall time]."""
    na_cols, notes = _na_columns(sources)
    score_cols = [*na_cols, *_dim_columns(sources), *_fidelity_columns(sources)]
    rows = [(f, *_score_cells(s, score_cols), *(costs[i] if costs else ()))
            for i, (f, s) in enumerate(zip(firsts, sources))]
    if ranked:
        rows = _ranked(rows, len(na_cols))
    cases = (_CASES_COLUMN,) if sources and sources[0].cases is not None else ()
    columns = (first, *score_cols, *cases, *(_COST_COLUMNS if costs else ()))
    return Table(key, title, columns, tuple(rows), tuple(notes))


def _run_cell(e: Entry, labels: dict[int, str]) -> Cell:
    return Cell(labels[id(e)], labels[id(e)], href=f"models/{model_slug(e.model)}.html")


def overall_na_key(e: Entry) -> str:
    return na_profile(na_parts(e.na_convention, _na_dims(e.na_dimensions, e.dimensions), e.suite, e.case_reading))


def comparable_runs(entries: list[Entry]) -> set[int]:
    """id() of the runs whose overall NA shares the most common profile (ties: the first key); plots draw the
    others as hollow marks."""
    counts: dict[str, int] = {}
    for e in entries:
        counts[overall_na_key(e)] = counts.get(overall_na_key(e), 0) + 1
    if not counts:
        return set()
    main = sorted(counts, key=lambda k: (-counts[k], k))[0]
    return {id(e) for e in entries if overall_na_key(e) == main}


def overall_table(entries: list[Entry], labels: dict[int, str]) -> Table:
    sources = [_Source(e.na, na_parts(e.na_convention, _na_dims(e.na_dimensions, e.dimensions), e.suite,
                                      e.case_reading), e.na_convention, e.dimensions, overall_fidelity(e))
               for e in entries]
    return _table("overall", "Overall", _RUN_COLUMN, [_run_cell(e, labels) for e in entries], sources,
                  [_cost_cells(e) for e in entries])


def _task_source(e: Entry, t: TaskView) -> _Source:
    return _Source(t.na, na_parts(e.na_convention, _na_dims(t.na_dimensions, t.dimensions), reading=e.case_reading),
                   e.na_convention,
                   t.dimensions, task_fidelity(t), (t.num_scored, t.num_cases))


def task_table(entries: list[Entry], task: str, labels: dict[int, str]) -> Table:
    having = [e for e in entries if task in e.tasks]
    sources = [_task_source(e, e.tasks[task]) for e in having]
    return _table(task, task, _RUN_COLUMN, [_run_cell(e, labels) for e in having], sources,
                  [_cost_cells(e) for e in having])


def run_tasks_table(entry: Entry, tasks: list[str]) -> Table:
    """One run's tasks as rows (for its model page), in task order."""
    names = [t for t in tasks if t in entry.tasks]
    return _table("tasks", "Tasks", Column("task", "Task", kind="text"), [Cell(t, t) for t in names],
                  [_task_source(entry, entry.tasks[t]) for t in names], None, ranked=False)


def na_by_task_table(entries: list[Entry], tasks: list[str], labels: dict[int, str]) -> Table:
    """One row per run, one column per task (+ the convention): the matrix the per-task bar chart draws."""
    columns = [_RUN_COLUMN, Column("na_convention", "Convention", kind="text", title="NA convention")]
    columns += [Column(f"NA: {t}", t, sub="NA %", title=f"Normalized Average of task {t}", better="higher")
                for t in tasks]
    rows = []
    for e in entries:
        row = [_run_cell(e, labels), Cell(e.na_convention, e.na_convention)]
        for t in tasks:
            na = e.tasks[t].na if t in e.tasks else None
            row.append(Cell(na, fmt(na, 2)))
        rows.append(tuple(row))
    rows.sort(key=lambda r: str(r[0].value))
    notes = ("Per-task NAs of different conventions or metric backends are not comparable; see each task's table.",)
    return Table("na_by_task", "NA by task", tuple(columns), tuple(rows), notes)


def task_names(entries: list[Entry]) -> list[str]:
    """Tasks in the paper's order, then the task registry's, then unknown ones sorted."""
    from uvc_data.tasks import all_tasks

    seen = {t for e in entries for t in e.tasks}
    order = list(PAPER_TASK_ORDER) + [t.name for t in all_tasks() if t.name not in PAPER_TASK_ORDER]
    known = [t for t in order if t in seen]
    return known + sorted(seen - set(known))


def build_tables(entries: list[Entry]) -> list[Table]:
    """Overall, NA by task, then one table per task. `entries` must already be in their deterministic order."""
    labels = entry_labels(entries)
    tasks = task_names(entries)
    return [overall_table(entries, labels), na_by_task_table(entries, tasks, labels),
            *(task_table(entries, t, labels) for t in tasks)]
