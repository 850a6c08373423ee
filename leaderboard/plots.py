"""The leaderboard's charts as hand-written SVG: per-task NA bars by run, NA vs steps (NFE), NA vs wall time.

Each run keeps one colour in every chart (its position in the sorted entries). Runs of the same model are joined by
a grey line in the scatter charts: the model's quality/cost trade-off. Runs whose NA is not comparable with the main
group's (another convention, suite or metric backend: tables.comparable_runs) are drawn hollow and starred in the
legend. Every mark has a tooltip (<title>). Marks that would cover each other are set side by side, joined to their
true position by a short line, and labelled (leaderboard.overlap).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from leaderboard.model import Entry
from leaderboard.overlap import Placed, spread
from leaderboard.svg import Scale, Svg, linear_ticks, log_ticks, nice_range, text_width, tick_text

# Okabe–Ito (colour-blind safe) then Tableau 10; cycles beyond 17 runs.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F")
FONT_SIZE = 12.0
LEGEND_MAX_CHARS = 48
MARK_R = 6.0  # radius of a scatter mark


NOT_COMPARABLE = " (NA from other backends/convention/suite: not comparable)"


@dataclass(frozen=True)
class Series:
    """One run: legend label, colour, model, and whether its NA is comparable with the main group's (else hollow)."""

    label: str
    color: str
    model: str
    comparable: bool = True

    @property
    def tip(self) -> str:
        return self.label + ("" if self.comparable else NOT_COMPARABLE)


def series(entries: list[Entry], labels: dict[int, str], comparable: set[int]) -> list[Series]:
    return [Series(labels[id(e)], PALETTE[i % len(PALETTE)], e.model, id(e) in comparable)
            for i, e in enumerate(entries)]


def _clip(text: str, n: int = LEGEND_MAX_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _legend(svg: Svg, items: list[Series], x0: float, y0: float, max_w: float) -> float:
    """Colour swatches + labels, wrapped to max_w; returns the height used."""
    x, y, row_h = x0, y0, FONT_SIZE + 8
    for s in items:
        label = _clip(s.label)
        w = 16 + text_width(label, FONT_SIZE) + 18
        if x > x0 and x + w > x0 + max_w:
            x, y = x0, y + row_h
        svg.rect(x, y - 10, 11, 11, s.color, tooltip=s.tip, hollow=not s.comparable)
        svg.text(x + 16, y, label + ("" if s.comparable else " *"), FONT_SIZE)
        x += w
    return y - y0 + row_h


def _legend_height(items: list[Series], max_w: float) -> float:
    probe = Svg(max_w, 0, "")
    return _legend(probe, items, 0.0, 0.0, max_w)


def _y_axis(svg: Svg, y: Scale, ticks: list[float], x0: float, x1: float, label: str) -> None:
    for t in ticks:
        py = y(t)
        svg.line(x0, py, x1, py, stroke="#e4e4e4")
        svg.text(x0 - 6, py + 4, tick_text(t), 11, anchor="end", fill="#555")
    svg.line(x0, y(ticks[0]), x0, y(ticks[-1]), stroke="#555")
    mid = (y(ticks[0]) + y(ticks[-1])) / 2
    svg.text(14, mid, label, FONT_SIZE, anchor="middle", rotate=-90.0, fill="#333")


def _na_range(values: list[float]) -> tuple[float, float, float]:
    """NA axis: 0-based when values are low, otherwise starting a little below the smallest (stated on the axis)."""
    lo, hi = min(values), max(values)
    lo = 0.0 if lo < 20 else lo - max(2.0, 0.15 * (hi - lo))
    return nice_range(lo, hi + 0.5, 5)


def task_bars(entries: list[Entry], tasks: list[str], labels: dict[int, str], comparable: set[int]) -> str:
    """Grouped bars: one group per task, one bar per run, height = the task's NA (%)."""
    ss = series(entries, labels, comparable)
    values = [e.tasks[t].na for e in entries for t in tasks if t in e.tasks and e.tasks[t].na is not None]
    n = max(len(entries), 1)
    bar_w = max(5.0, min(16.0, 84.0 / n))
    group_w = n * bar_w + 14.0
    left, right, top = 64.0, 16.0, 40.0
    width = max(560.0, left + right + group_w * max(len(tasks), 1))
    legend_h = _legend_height(ss, width - left - right)
    plot_h, label_h = 260.0, 72.0
    height = top + legend_h + plot_h + label_h
    svg = Svg(width, height, "Normalized Average (NA, %) per task, by run")
    svg.text(left, 22, "NA per task (%)", 15, weight="bold")
    _legend(svg, ss, left, top, width - left - right)
    y_top = top + legend_h
    if not values:
        svg.text(width / 2, y_top + plot_h / 2, "no per-task NA in these results", 13, anchor="middle", fill="#777")
        return svg.render()
    lo, hi, step = _na_range(values)
    y = Scale(lo, hi, y_top + plot_h, y_top)
    _y_axis(svg, y, linear_ticks(lo, hi, step), left, width - right,
            "NA (%)" if lo == 0 else f"NA (%), axis from {tick_text(lo)}")
    for gi, task in enumerate(tasks):
        gx = left + gi * group_w + 7.0
        for i, (e, s) in enumerate(zip(entries, ss)):
            view = e.tasks.get(task)
            if view is None or view.na is None:
                continue
            top_y = y(max(view.na, lo))
            svg.rect(gx + i * bar_w, top_y, bar_w - 1.0, y(lo) - top_y, s.color,
                     tooltip=f"{s.tip} — {task}: NA {view.na:.2f}", hollow=not s.comparable)
        cx = gx + n * bar_w / 2
        svg.text(cx, y(lo) + 14, task, 11, anchor="end", rotate=-35.0, fill="#333")
    return svg.render()


def scatter(entries: list[Entry], labels: dict[int, str], comparable: set[int],
            x_of: Callable[[Entry], float | None], x_label: str, title: str) -> str:
    """NA (y) against a cost (x, log scale); runs of one model joined by a grey line in x order (comparable runs
    only)."""
    ss = series(entries, labels, comparable)
    pts = [(x_of(e), e.na, e, s) for e, s in zip(entries, ss)]
    pts = [(x, na, e, s) for x, na, e, s in pts if x is not None and x > 0 and na is not None]
    left_out = len(entries) - len(pts)
    left, right, top = 64.0, 24.0, 40.0
    width = 640.0
    legend_h = _legend_height(ss, width - left - right)
    plot_h = 300.0
    height = top + legend_h + plot_h + 48.0
    svg = Svg(width, height, title)
    svg.text(left, 22, title, 15, weight="bold")
    _legend(svg, ss, left, top, width - left - right)
    y_top = top + legend_h
    x_axis_y = y_top + plot_h
    if not pts:
        svg.text(width / 2, y_top + plot_h / 2, f"no run reports both NA and {x_label}", 13, anchor="middle",
                 fill="#777")
        return svg.render()
    xs, nas = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(xs) / 1.6, max(xs) * 1.6
    lo, hi, step = nice_range(min(nas) - 1.0, max(nas) + 1.0, 5)
    x = Scale(x0, x1, left + 10, width - right - 10, log=True)
    y = Scale(lo, hi, x_axis_y, y_top)
    _y_axis(svg, y, linear_ticks(lo, hi, step), left, width - right, "NA (%)")
    svg.line(left, x_axis_y, width - right, x_axis_y, stroke="#555")
    ticks = log_ticks(x0, x1) or [xs[0]]
    for t in ticks:
        svg.line(x(t), x_axis_y, x(t), x_axis_y + 4, stroke="#555")
        svg.text(x(t), x_axis_y + 17, tick_text(t), 11, anchor="middle", fill="#555")
    svg.text((left + width - right) / 2, x_axis_y + 38, f"{x_label} (log scale)", FONT_SIZE, anchor="middle",
             fill="#333")
    if left_out:
        svg.text(width - right, y_top + 14, f"{left_out} run{'s' * (left_out != 1)} without NA or {x_label}: not shown",
                 11, anchor="end", fill="#777")
    by_model: dict[str, list[tuple[float, float]]] = {}
    for px, na, e, s in pts:
        if s.comparable:
            by_model.setdefault(e.model, []).append((x(px), y(na)))
    for model in sorted(by_model):
        line = sorted(by_model[model])
        if len(line) > 1:
            svg.polyline(line, stroke="#9a9a9a")
    placed = spread([(x(px), y(na)) for px, na, _, _ in pts], MARK_R)
    for (px, na, e, s), p in zip(pts, placed):
        if p.group >= 0:  # moved aside from a mark it would cover: a leader line to where it really is
            svg.line(p.x0, p.y0, p.x, p.y, stroke=s.color, width=1.0)
        svg.circle(p.x, p.y, MARK_R, s.color, tooltip=f"{s.tip}: NA {na:.2f} at {px:g} {x_label}",
                   hollow=not s.comparable)
    _label_groups(svg, [(p, s) for (_, _, _, s), p in zip(pts, placed)], width - right)
    return svg.render()


def _label_groups(svg: Svg, marks: list[tuple[Placed, Series]], x_max: float) -> None:
    """Next to each cluster of marks set side by side, its runs' labels, one line each, in the marks' order."""
    groups: dict[int, list[tuple[Placed, Series]]] = {}
    for p, s in marks:
        if p.group >= 0:
            groups.setdefault(p.group, []).append((p, s))
    size, line_h = 10.5, 13.0
    for members in groups.values():
        labels = [_clip(s.label, 32) + ("" if s.comparable else " *") for _, s in members]
        right_x = max(p.x for p, _ in members) + MARK_R + 5
        left_x = min(p.x for p, _ in members) - MARK_R - 5
        wide = max(text_width(t, size) for t in labels)
        anchor, tx = ("start", right_x) if right_x + wide <= x_max else ("end", left_x)
        cy = members[0][0].y
        for k, ((p, s), text) in enumerate(zip(members, labels)):
            ty = cy + (k - (len(members) - 1) / 2) * line_h + 4
            svg.text(tx, ty, text, size, anchor=anchor, fill="#333")


def na_vs_steps(entries: list[Entry], labels: dict[int, str], comparable: set[int]) -> str:
    return scatter(entries, labels, comparable, lambda e: None if e.nfe is None else float(e.nfe), "steps (NFE)",
                   "Quality vs steps: NA (%) against NFE")


def na_vs_time(entries: list[Entry], labels: dict[int, str], comparable: set[int]) -> str:
    return scatter(entries, labels, comparable, lambda e: e.seconds_per_video, "seconds per video",
                   "Quality vs wall time: NA (%) against seconds per video")
