"""The gallery as HTML: one row per case, its conditions then each run's output, lazy-loaded looping thumbnails.

Every caption, prompt, label and path goes through `esc`; images are plain `<img loading="lazy">` of site-relative
files, so the page fetches nothing outside the site and works from file://.
"""
from __future__ import annotations

from leaderboard.gallery import GalleryCase, Tile, gallery_page
from leaderboard.html_page import esc, page
from leaderboard.labels import file_name


def tile_html(tile: Tile, kind: str, prefix: str) -> str:
    if tile.src is None:
        body = f'<div class="nomedia">{esc(tile.note or "no picture")}</div>'
    else:
        body = (f'<img src="{esc(prefix + tile.src)}" width="{tile.width}" height="{tile.height}" loading="lazy" '
                f'decoding="async" alt="{esc(tile.caption)}">')
    return f'<figure class="tile {kind}">{body}<figcaption>{esc(tile.caption)}</figcaption></figure>'


def case_html(case: GalleryCase, labels: dict[int, str], prefix: str) -> str:
    conds = "".join(tile_html(t, "cond", prefix) for t in case.conditions)
    outs = "".join(tile_html(Tile(labels.get(i, t.caption), t.src, t.width, t.height, t.note), "out", prefix)
                   for i, t in case.outputs)
    prompt = f'<span class="prompt">{esc(case.prompt)}</span>' if case.prompt else ""
    return (f'<div class="gallery-case" data-case="{esc(case.case_id)}"><p class="case-id"><code>'
            f'{esc(case.case_id)}</code> {prompt}</p><div class="tiles">{conds}<span class="sep" aria-hidden="true">'
            f'→</span>{outs}</div></div>')


def gallery_section(task: str, cases: list[GalleryCase], labels: dict[int, str], prefix: str,
                    heading: str = "h2") -> str:
    rows = "\n".join(case_html(c, labels, prefix) for c in cases)
    return (f'<section class="gallery" data-task="{esc(task)}"><{heading}>Gallery: {esc(task)}</{heading}>'
            f'<p class="note">Conditions (left), then each run\'s output; thumbnails loop.</p>\n{rows}</section>')


def task_page(title: str, task: str, cases: list[GalleryCase], labels: dict[int, str], footer: str) -> str:
    """`tasks/<task>.html`: the task's gallery over every run."""
    body = (f'<header class="top"><p><a href="../index.html#t-task-{esc(file_name(task))}-section">← {esc(title)}</a></p>'
            f'<h1>Task: {esc(task)}</h1></header>\n<main>\n{gallery_section(task, cases, labels, "../")}\n</main>')
    return page(f"{task} — {title}", body, prefix="../", footer=footer)


def task_links(tasks: list[str]) -> dict[str, str]:
    return {t: gallery_page(t) for t in tasks}
