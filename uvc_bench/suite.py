"""A UVCBench suite: a folder with `indices/*.txt` in the official JSON-lines format, read as the official download is.

One line per case: {"subtask", "sample_id", "en_prompt", "src_video", "src_mask", "src_ref_images"} with paths relative
to the suite root (null / "" / [] where a task has no such input). Our suites add an optional "gt_video" (the original
clip, for condition fidelity); official readers ignore it. Unknown keys are ignored (the official files may carry more).

What a case feeds the model follows the official substring routing (uvc_data.tasks.route_official_subtask); the task
(for fidelity and grouping) is resolved through the registry's aliases, and unknown official names keep their spelling.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uvc_data.errors import BadInputError, UnknownNameError
from uvc_data.tasks import get_task, route_official_subtask
from uvc_bench.paths import resolve_inside

INDEX_DIR = "indices"
SINGLE_INDEX = "uvcbench_single.txt"
COMPOSITE_INDEX = "uvcbench_composite.txt"
MANIFEST = "suite.json"  # written by build-suite: working size, frames, fps, selection (optional for official suites)
REQUIRED_KEYS = ("subtask", "sample_id", "en_prompt")
PATH_KEYS = ("src_video", "src_mask", "gt_video")
# Which inputs each official route feeds (route_official_subtask).
ROUTE_INPUTS: dict[str, tuple[str, ...]] = {
    "ref_only": ("src_ref_images",),
    "video_and_ref": ("src_video", "src_ref_images"),
    "video_and_mask": ("src_video", "src_mask"),
    "text_only": (),
    "video_only": ("src_video",),
}
OFFICIAL_SIZE = (480, 832)
OFFICIAL_FRAMES = 81
OFFICIAL_FPS = 16.0


@dataclass(frozen=True)
class Case:
    subtask: str  # as spelled in the index (official spelling): output folder name
    sample_id: str
    prompt: str
    task: str  # canonical registry name, or the subtask itself when the registry does not know it
    route: str  # official routing: ref_only | video_and_ref | video_and_mask | text_only | video_only
    src_video: Path | None = None  # absolute, resolved inside the suite
    src_mask: Path | None = None
    src_ref_images: tuple[Path, ...] = ()
    gt_video: Path | None = None
    where: str = ""  # "indices/<file>:<line>"

    @property
    def case_id(self) -> str:
        return f"{self.subtask}/{self.sample_id}"

    @property
    def known_task(self) -> bool:
        try:
            get_task(self.task)
            return True
        except UnknownNameError:
            return False

    def input_paths(self) -> list[Path]:
        """The files this case feeds the model under its route."""
        wanted = ROUTE_INPUTS[self.route]
        out: list[Path] = []
        if "src_video" in wanted and self.src_video is not None:
            out.append(self.src_video)
        if "src_mask" in wanted and self.src_mask is not None:
            out.append(self.src_mask)
        if "src_ref_images" in wanted:
            out.extend(self.src_ref_images)
        return out

    def problems(self) -> list[str]:
        """What stops this case from running (missing inputs), one message each; [] when it can run."""
        wanted = ROUTE_INPUTS[self.route]
        out = []
        if "src_video" in wanted and self.src_video is None:
            out.append(f"{self.where}: subtask {self.subtask!r} (route {self.route}) needs src_video, the index gives none")
        if "src_mask" in wanted and self.src_mask is None:
            out.append(f"{self.where}: subtask {self.subtask!r} (route {self.route}) needs src_mask, the index gives none")
        if "src_ref_images" in wanted and not self.src_ref_images:
            out.append(f"{self.where}: subtask {self.subtask!r} (route {self.route}) needs src_ref_images, the index "
                       "gives none")
        for p in self.input_paths():
            if not p.is_file():
                out.append(f"{self.where}: missing file {p}")
        return out


@dataclass
class Suite:
    root: Path
    cases: list[Case]
    manifest: dict[str, Any] = field(default_factory=dict)
    index_files: list[Path] = field(default_factory=list)

    @property
    def problems(self) -> dict[str, list[str]]:
        """case_id → missing inputs, for the cases that cannot run."""
        return {c.case_id: p for c in self.cases if (p := c.problems())}

    def subtasks(self) -> list[str]:
        return list(dict.fromkeys(c.subtask for c in self.cases))

    def select(self, tasks: list[str] | None = None, limit: int = 0) -> list[Case]:
        """Cases of the given tasks (canonical names, aliases or official spellings; all when empty), at most
        `limit` per subtask (0 = all), in index order."""
        cases = self.cases
        if tasks:
            wanted = {_canonical(t) for t in tasks}
            unknown = wanted - {c.task for c in cases}
            if unknown:
                raise UnknownNameError("suite task", sorted(unknown)[0], sorted({c.task for c in cases}))
            cases = [c for c in cases if c.task in wanted]
        if limit > 0:
            seen: dict[str, int] = {}
            kept = []
            for c in cases:
                seen[c.subtask] = seen.get(c.subtask, 0) + 1
                if seen[c.subtask] <= limit:
                    kept.append(c)
            cases = kept
        return cases

    def working_shape(self) -> tuple[tuple[int, int], int, float]:
        """((H, W), frames, fps) the suite was built for (suite.json), else the official 480×832, 81 frames, 16 fps."""
        m = self.manifest
        size = (int(m["height"]), int(m["width"])) if "height" in m and "width" in m else OFFICIAL_SIZE
        return size, int(m.get("num_frames", OFFICIAL_FRAMES)), float(m.get("fps", OFFICIAL_FPS))

    def content_hash(self) -> str:
        """sha256 over the index files and every file they name (path + bytes); a missing file hashes as 'missing'."""
        h = hashlib.sha256()
        for idx in sorted(self.index_files):
            h.update(f"index:{idx.name}\n".encode())
            h.update(idx.read_bytes())
        files: set[Path] = set()
        for c in self.cases:
            files.update(p for p in (c.src_video, c.src_mask, c.gt_video, *c.src_ref_images) if p is not None)
        for p in sorted(files):
            h.update(f"file:{p.relative_to(self.root).as_posix()}\n".encode())
            h.update(_file_digest(p).encode())
        return "sha256:" + h.hexdigest()


def _file_digest(p: Path) -> str:
    if not p.is_file():
        return "missing"
    d = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            d.update(block)
    return d.hexdigest()


def _canonical(subtask: str) -> str:
    try:
        return get_task(subtask).name
    except UnknownNameError:
        return subtask


def parse_line(root: Path, line: str, where: str) -> Case:
    """One index line → Case; BadInputError naming `where` (file:line) when it is malformed or escapes the suite."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno}); each line of an index is "
                            "one JSON object") from None
    if not isinstance(rec, dict):
        raise BadInputError(f"{where}: expected a JSON object, got {type(rec).__name__}")
    for k in REQUIRED_KEYS:
        if not isinstance(rec.get(k), str) or not rec[k].strip():
            raise BadInputError(f"{where}: field {k!r} must be a non-empty string, got {rec.get(k)!r}")
    sample_id = rec["sample_id"]
    if "/" in sample_id or "\\" in sample_id or sample_id in (".", ".."):
        raise BadInputError(f"{where}: sample_id {sample_id!r} must not contain path separators (it names "
                            "<out>/<subtask>/<sample_id>.mp4)")
    subtask = rec["subtask"].strip()
    if "/" in subtask or "\\" in subtask or subtask in (".", ".."):
        raise BadInputError(f"{where}: subtask {subtask!r} must not contain path separators")
    paths: dict[str, Path | None] = {}
    for k in PATH_KEYS:
        v = rec.get(k)
        if v in (None, ""):
            paths[k] = None
        elif isinstance(v, str):
            paths[k] = resolve_inside(root, v, f"{where} {k}")
        else:
            raise BadInputError(f"{where}: field {k!r} must be a path string or null, got {v!r}")
    refs_raw = rec.get("src_ref_images") or []
    if isinstance(refs_raw, str):
        refs_raw = [refs_raw]
    if not isinstance(refs_raw, list) or not all(isinstance(r, str) for r in refs_raw):
        raise BadInputError(f"{where}: field 'src_ref_images' must be a list of path strings, got {refs_raw!r}")
    refs = tuple(resolve_inside(root, r, f"{where} src_ref_images") for r in refs_raw if r)
    return Case(subtask=subtask, sample_id=sample_id, prompt=rec["en_prompt"], task=_canonical(subtask),
                route=route_official_subtask(subtask), src_video=paths["src_video"], src_mask=paths["src_mask"],
                src_ref_images=refs, gt_video=paths["gt_video"], where=where)


def load_suite(root: str | Path) -> Suite:
    """Read every `indices/*.txt` of a suite folder. Malformed lines and paths escaping the folder fail loudly
    (all of them listed, each with file and line); missing input files are reported per case (Suite.problems)."""
    base = Path(root).expanduser()
    if not base.is_dir():
        raise BadInputError(f"suite folder {base} does not exist; build one with `uvc bench build-suite` or give the "
                            "UVCBench download folder")
    base = base.resolve()
    idx_dir = base / INDEX_DIR
    index_files = sorted(idx_dir.glob("*.txt")) if idx_dir.is_dir() else []
    if not index_files:
        raise BadInputError(f"{base} has no {INDEX_DIR}/*.txt index files (expected {INDEX_DIR}/{SINGLE_INDEX} and/or "
                            f"{INDEX_DIR}/{COMPOSITE_INDEX}); give the suite root folder")
    cases: list[Case] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for idx in index_files:
        for lineno, line in enumerate(idx.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{INDEX_DIR}/{idx.name}:{lineno}"
            try:
                case = parse_line(base, line, where)
            except BadInputError as exc:
                errors.append(str(exc))
                continue
            if case.case_id in seen:
                errors.append(f"{where}: case {case.case_id} already defined at {seen[case.case_id]}; sample ids must "
                              "be unique per subtask")
                continue
            seen[case.case_id] = where
            cases.append(case)
    if errors:
        shown = "\n  ".join(errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise BadInputError(f"suite {base}: {len(errors)} bad index line(s):\n  {shown}{more}")
    manifest: dict[str, Any] = {}
    if (base / MANIFEST).is_file():
        try:
            manifest = json.loads((base / MANIFEST).read_text())
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{base / MANIFEST} is not valid JSON ({exc}); rebuild the suite or delete the file")
    return Suite(root=base, cases=cases, manifest=manifest, index_files=index_files)
