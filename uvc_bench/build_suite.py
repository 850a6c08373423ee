"""Build a UVCBench-format suite from our WebDataset shards, held out from training by a recorded split.

Selection: for each bench task, the samples that serve it are ranked by sha256("<seed>:<task>:<key>") and the first
`per_task` are taken (deterministic, independent of shard order). A sample serves a task when the task is in its
`tasks`, or when it is not rejected for the task (or its control) and has every condition the task needs.
Written (paths relative to the suite root):
  cases/<task>/<key>/src_video.mp4   control / source video as the model sees it (VCU frames, uint8)
  cases/<task>/<key>/src_mask.mp4    mask video, white = generate (lossless)   [mask tasks]
  cases/<task>/<key>/ref<i>.png      reference images on white at the working size  [reference tasks]
  cases/<task>/<key>/gt.mp4          the original clip (ground truth for condition fidelity)
  indices/uvcbench_single.txt, indices/uvcbench_composite.txt   official JSON-lines indices (+ "gt_video")
  holdout.txt                        every selected sample key, one per line: the trainer excludes these
  suite.json                         working size, frames, fps, seed, selection per task, source shards
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from uvc_data.errors import BadInputError, ConfigError
from uvc_data.shards import sample_from_wds, shard_paths
from uvc_data.side_tables import SideTables
from uvc_data.tasks import TaskDef, bench_tasks, get_task, route_official_subtask
from uvc_data.vcu import VCU, build_vcu, to_uint8
from uvc_data.video.codec import encode_png, encode_video
from uvc_bench.suite import COMPOSITE_INDEX, INDEX_DIR, MANIFEST, ROUTE_INPUTS, SINGLE_INDEX

SUITE_SCHEMA = "uvc-suite/1"
HOLDOUT_FILE = "holdout.txt"


@dataclass
class BuildSuiteConfig:
    shards: list[str] = field(default_factory=list)  # folders, globs or shard files
    out: str = ""
    per_task: int = 20
    seed: int = 2025
    tasks: list[str] = field(default_factory=list)  # empty = the 18 bench tasks
    split: str = ""  # only samples whose split is this (empty = any split)
    crf: int = 12  # H.264 quality of src_video / gt (masks are lossless)
    # side tables of `uvc data rerun` (uvc_data.side_tables) applied over each sample's json: new prompts, tasks and
    # verdicts; clips they reject are never cases. None: those of the out dir each shards folder `OUT/shards` is in
    # (OUT/side/*.parquet, if any); [] none; else out dirs, side/ folders or .parquet files
    side_tables: list[str] | None = None

    def validate(self) -> None:
        if not self.shards:
            raise ConfigError("shards", "give at least one shard folder, glob or file")
        if not self.out:
            raise ConfigError("out", "give the suite folder to write")
        if self.per_task < 1:
            raise ConfigError("per_task", f"must be ≥ 1, got {self.per_task}")
        for t in self.tasks:
            get_task(t)


def _rank(seed: int, task: str, key: str) -> str:
    return hashlib.sha256(f"{seed}:{task}:{key}".encode()).hexdigest()


def serves(task: TaskDef, meta: dict[str, Any]) -> bool:
    """Whether a shard sample (its json metadata) can be a case of `task`."""
    if task.name in meta.get("tasks", []):
        return True
    rejected = meta.get("rejected", {})
    if task.name in rejected or "clip" in rejected or (task.control and task.control in rejected):
        return False
    return all(n in meta.get("conditions", {}) for n in task.needs)


def _raw_items(paths: list[str]) -> Iterator[dict[str, Any]]:
    import webdataset as wds

    from uvc_data.remote import is_url
    from uvc_data.shard_index import iter_shard

    if any(is_url(p) for p in paths):  # webdataset opens URLs through shell pipes; fsspec reads them here
        for p in paths:
            yield from iter_shard(p)
        return
    yield from wds.WebDataset(paths, shardshuffle=False, empty_check=False)


def side_tables_for(cfg: BuildSuiteConfig) -> SideTables:
    """The side tables the suite applies (see BuildSuiteConfig.side_tables)."""
    if cfg.side_tables is None:
        return SideTables.beside(cfg.shards)
    return SideTables.load(cfg.side_tables) if cfg.side_tables else SideTables([])


def select_cases(metas: list[dict[str, Any]], tasks: list[TaskDef], per_task: int, seed: int,
                 split: str = "") -> dict[str, list[str]]:
    """task name → selected sample keys (ranked by seed), at most `per_task` each."""
    pool = [m for m in metas if not split or m.get("split") == split]
    return {t.name: sorted((m["key"] for m in pool if serves(t, m)), key=lambda k: _rank(seed, t.name, k))[:per_task]
            for t in tasks}


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_case(root: Path, task: TaskDef, key: str, vcu: VCU, clip: np.ndarray, fps: float, crf: int) -> dict:
    """Write one case's files; returns its index record (paths relative to `root`)."""
    rel = Path("cases") / task.name.replace("+", "_") / key
    wanted = ROUTE_INPUTS[route_official_subtask(task.name)]
    if vcu.refs and "src_ref_images" not in wanted or (not vcu.refs and "src_ref_images" in wanted):
        raise BadInputError(f"task {task.name!r}: the official routing {route_official_subtask(task.name)!r} does not "
                            "match the task's references; fix the task definition in uvc_data/tasks/definitions.py")
    rec: dict[str, Any] = {"subtask": task.name, "sample_id": key, "en_prompt": vcu.prompt, "src_video": None,
                           "src_mask": None, "src_ref_images": []}
    if "src_video" in wanted:
        _write_bytes(root / rel / "src_video.mp4", encode_video(to_uint8(vcu.frames), fps, crf=crf))
        rec["src_video"] = (rel / "src_video.mp4").as_posix()
    if "src_mask" in wanted:
        mask_THW = (vcu.masks > 0.5).astype(np.uint8) * 255
        _write_bytes(root / rel / "src_mask.mp4", encode_video(mask_THW, fps, crf=0, preset="ultrafast"))
        rec["src_mask"] = (rel / "src_mask.mp4").as_posix()
    if "src_ref_images" in wanted:
        for i, r in enumerate(vcu.refs):
            _write_bytes(root / rel / f"ref{i}.png", encode_png(to_uint8(r)))
            rec["src_ref_images"].append((rel / f"ref{i}.png").as_posix())
    _write_bytes(root / rel / "gt.mp4", encode_video(clip, fps, crf=crf))
    rec["gt_video"] = (rel / "gt.mp4").as_posix()
    return rec


def build_suite(cfg: BuildSuiteConfig, log=print) -> dict[str, Any]:
    """Build the suite; returns the manifest written to suite.json."""
    cfg.validate()
    paths = shard_paths(cfg.shards)
    tasks = [get_task(t) for t in cfg.tasks] if cfg.tasks else bench_tasks()
    side = side_tables_for(cfg)
    metas = [json.loads(item["json"]) for item in _raw_items(paths) if "json" in item]
    if side:
        metas = [m for m in (side.apply_meta(m) for m in metas) if m is not None]
    if not metas:
        raise BadInputError(f"no samples in shards {paths}; build shards with `uvc data build` first")
    chosen = select_cases(metas, tasks, cfg.per_task, cfg.seed, cfg.split)
    short = {t: len(k) for t, k in chosen.items() if len(k) < cfg.per_task}
    for t, n in short.items():
        log(f"warning: task {t}: only {n} of {cfg.per_task} cases available in the shards")
    wanted_keys = {k for keys in chosen.values() for k in keys}

    root = Path(cfg.out).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    records: dict[str, dict[str, dict]] = {t.name: {} for t in tasks}
    shape: dict[str, Any] = {}
    for item in _raw_items(paths):
        if item.get("__key__") not in wanted_keys:
            continue
        sample = sample_from_wds(item)
        if side and side.apply_sample(sample) is None:
            continue
        assert sample.frames is not None
        if not shape:
            shape = {"height": sample.size[0], "width": sample.size[1], "num_frames": sample.num_frames,
                     "fps": sample.fps}
        shape["num_frames"] = min(shape["num_frames"], sample.num_frames)
        for t in tasks:
            if sample.key in chosen[t.name]:
                vcu = build_vcu(t, sample.prompt, sample.frames, sample.conditions)
                records[t.name][sample.key] = write_case(root, t, sample.key, vcu, sample.frames, sample.fps, cfg.crf)

    (root / INDEX_DIR).mkdir(exist_ok=True)
    for name, compound in ((SINGLE_INDEX, False), (COMPOSITE_INDEX, True)):
        lines = [json.dumps(records[t.name][k], ensure_ascii=False)
                 for t in tasks if t.compound == compound for k in chosen[t.name]]
        _write_bytes(root / INDEX_DIR / name, ("\n".join(lines) + "\n" if lines else "").encode())
    _write_bytes(root / HOLDOUT_FILE, "".join(f"{k}\n" for k in sorted(wanted_keys)).encode())
    manifest = {"schema": SUITE_SCHEMA, **shape, "seed": cfg.seed, "per_task": cfg.per_task, "split": cfg.split,
                "holdout_file": HOLDOUT_FILE, "shards": [os.path.basename(p) for p in paths],
                "selection": chosen, "short": short}
    _write_bytes(root / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    log(f"suite {root}: {sum(len(k) for k in chosen.values())} cases over {len(tasks)} tasks, "
        f"{len(wanted_keys)} held-out samples listed in {HOLDOUT_FILE}")
    return manifest
