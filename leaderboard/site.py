"""Build the static leaderboard: results files → index.html, model pages, SVG plots, CSV and Markdown exports.

`render_site` is pure (entries → {relative path: text}); `write_site` writes it. The same inputs give byte-identical
files: entries are sorted, nothing reads the clock (a `generated` note is printed only when passed in), and a rebuild
into the same folder removes the files of the previous build that are no longer produced.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable

from leaderboard.export import markdown_document, table_csv
from leaderboard.gallery import Gallery, GalleryConfig, collect_gallery, gallery_page
from leaderboard.gallery_html import gallery_section, task_page
from leaderboard.html_page import esc
from leaderboard.inputs import Loaded, load
from leaderboard.labels import entry_labels, model_slug
from leaderboard.model import Entry
from leaderboard.pages import Plot, index_page, model_page, table_file
from leaderboard.plots import na_vs_steps, na_vs_time, task_bars
from leaderboard.tables import build_tables, comparable_runs, task_names
from uvc_data.errors import BadInputError, ConfigError

MANIFEST = ".leaderboard-manifest"
ASSETS = ("style.css", "sort.js")


@dataclass
class SiteConfig:
    """title: page title. generated: free text for the footer (e.g. a date); empty = none, for reproducible builds.
    strict: fail when any input is skipped instead of building from the valid ones.
    gallery: how many cases per task the task and model pages show, and their thumbnails' size."""

    title: str = "UVCBench leaderboard"
    generated: str = ""
    strict: bool = False
    gallery: GalleryConfig = field(default_factory=GalleryConfig)


@dataclass
class BuildReport:
    out: Path
    entries: int
    files: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    gallery_notes: list[str] = field(default_factory=list)


def _footer(cfg: SiteConfig, n_files: int) -> str:
    text = f"Built by <code>uvc leaderboard build</code> from {n_files} results file{'s' * (n_files != 1)}."
    return text + (f" {esc(cfg.generated)}" if cfg.generated else "")


def _plots(entries: list[Entry], labels: dict[int, str], tasks: list[str]) -> list[Plot]:
    ok = comparable_runs(entries)
    star = "" if len(ok) == len(entries) else (" Hollow marks (* in the legend): NA from another convention, suite "
                                               "or metric backend, not comparable with the filled ones.")
    return [
        Plot("plots/na_by_task.svg", "NA per task", task_bars(entries, tasks, labels, ok),
             "Normalized Average per task, by run." + star),
        Plot("plots/na_vs_steps.svg", "NA vs steps", na_vs_steps(entries, labels, ok),
             "Overall NA against sampling steps (NFE); runs of one model are joined." + star),
        Plot("plots/na_vs_time.svg", "NA vs wall time", na_vs_time(entries, labels, ok),
             "Overall NA against wall-clock seconds per video; runs of one model are joined." + star),
    ]


def _galleries(gallery: Gallery, entries: list[Entry], labels: dict[int, str], title: str,
               footer: str) -> tuple[dict[str, str | bytes], dict[str, str]]:
    """(task pages and thumbnails, model → the HTML of its galleries)."""
    files: dict[str, str | bytes] = dict(gallery.media)
    for task, cases in gallery.tasks.items():
        files[gallery_page(task)] = task_page(title, task, cases, labels, footer)
    per_model: dict[str, str] = {}
    for model in sorted({e.model for e in entries}):
        ids = {id(e) for e in entries if e.model == model}
        mine = gallery.for_entries(ids)
        per_model[model] = "".join(gallery_section(t, cs, labels, "../") for t, cs in mine.items())
    return files, per_model


def render_site(entries: list[Entry], cfg: SiteConfig, skipped: list[tuple[str, str]] | None = None,
                gallery: Gallery | None = None) -> dict[str, str | bytes]:
    """Every file of the site: relative path → text (bytes for thumbnails). `entries` in their deterministic order
    (Entry.sort_key); `gallery` from collect_gallery (None: no gallery)."""
    skipped = skipped or []
    gallery = gallery or Gallery()
    labels = entry_labels(entries)
    tasks = task_names(entries)
    tables = build_tables(entries)
    plots = _plots(entries, labels, tasks)
    footer = _footer(cfg, len(entries))
    gallery_files, model_galleries = _galleries(gallery, entries, labels, cfg.title, footer)
    files: dict[str, str | bytes] = dict(gallery_files)
    for name in ASSETS:
        files[f"assets/{name}"] = resources.files("leaderboard").joinpath("assets", name).read_text(encoding="utf-8")
    files["index.html"] = index_page(cfg.title, entries, tables, plots, skipped, footer,
                                     {t: gallery_page(t) for t in gallery.tasks})
    for p in plots:
        files[p.file] = p.svg
    for t in tables:
        files[table_file(t)] = table_csv(t)
    files["leaderboard.md"] = markdown_document(cfg.title, tables, [
        f"{len(entries)} runs. NA: Normalized Average (%). Dimension columns: raw VBench values in %, the metric "
        "backend in brackets. Condition fidelity is reported next to NA, never folded into it.",
        *([cfg.generated] if cfg.generated else []),
    ])
    by_model: dict[str, list[Entry]] = {}
    for e in entries:
        by_model.setdefault(e.model, []).append(e)
    for model, runs in by_model.items():
        files[f"models/{model_slug(model)}.html"] = model_page(cfg.title, model, runs, labels, tasks, footer,
                                                             model_galleries.get(model, ""))
    return dict(sorted(files.items()))


def _check_out(out: Path) -> list[str]:
    """The previous build's files (from its manifest); refuses a non-empty folder this command did not write."""
    if not out.exists():
        return []
    if not out.is_dir():
        raise ConfigError("--out", f"{out} exists and is not a folder; choose a folder for the site")
    manifest = out / MANIFEST
    if manifest.is_file():
        return [line for line in manifest.read_text(encoding="utf-8").splitlines() if line]
    if any(out.iterdir()):
        raise ConfigError("--out", f"{out} is not empty and holds no {MANIFEST} (it was not written by `uvc "
                                   "leaderboard build`); choose an empty or new folder so nothing of yours is "
                                   "overwritten")
    return []


def write_site(files: dict[str, str | bytes], out: Path) -> None:
    """Write every file (text as UTF-8 with "\\n" newlines, bytes as they are) and remove the previous build's files that are no longer produced."""
    previous = _check_out(out)
    out.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", newline="\n")
    for rel in previous:
        path = out / rel
        if rel not in files and ".." not in Path(rel).parts and path.is_file():
            path.unlink()
    (out / MANIFEST).write_text("".join(f"{rel}\n" for rel in files), encoding="utf-8", newline="\n")


def build(inputs: list[str], out: str | Path, cfg: SiteConfig | None = None,
          log: Callable[[str], None] = lambda s: None) -> BuildReport:
    """Read, validate and render; raise BadInputError when no input is a valid results file (or, with
    cfg.strict, when any is not)."""
    cfg = cfg or SiteConfig()
    loaded: Loaded = load(inputs)
    if cfg.strict and loaded.skipped:
        raise BadInputError("strict build: invalid inputs:\n" + "\n".join(f"  {p}: {w}" for p, w in loaded.skipped))
    if not loaded.entries:
        why = "\n".join(f"  {p}: {w}" for p, w in loaded.skipped) or "  (no results files were found)"
        raise BadInputError(f"no valid results file among the inputs {inputs}:\n{why}\nGive results files written by "
                            "`uvc bench score` (results.json), folders holding them, or globs.")
    cfg.gallery.validate()
    gallery = collect_gallery(loaded.entries, task_names(loaded.entries), entry_labels(loaded.entries), cfg.gallery,
                              log)
    files = render_site(loaded.entries, cfg, loaded.skipped, gallery)
    write_site(files, Path(out))
    return BuildReport(Path(out), len(loaded.entries), list(files), loaded.skipped, loaded.ignored, gallery.notes)
