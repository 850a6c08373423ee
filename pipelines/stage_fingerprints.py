"""Per-stage fingerprints of a BuildConfig, computed in one place.

Each stage of the plan (pipelines.stage_plan) gets a fingerprint of exactly the config it reads, through
uvc_data.configurable.fingerprint (neutral fields never count):

  split     tasks, split (decode, shots, clips), clip_filters and their filter_options
  caption   caption, judge, and filter_options.llm_judge when the judge runs
  annotate  the stage's annotators in run order, each with its resolved options (its registry config)
  depth, pose, flow   the same, for a model annotator with a stage of its own
  filters   task_filters and their filter_options (they run in the last stage, after every annotator)
  writer    the encoder settings (crf, preset, encode_threads, lean, transport)

`annotator_fingerprints` gives one per annotator, so a rerun of a stage redoes only the annotators that changed.
"""
from __future__ import annotations

from typing import Any

from pipelines.stage_plan import annotator_groups
from uvc_data.annotators import ANNOTATORS
from uvc_data.configurable import fingerprint, fingerprint_data
from uvc_data.filters import FILTERS

SCHEMA = "uvc-stage/1"


def _filter_data(cfg, names) -> list[Any]:
    return [[n, fingerprint_data(FILTERS.config(n, cfg.filter_options.get(n)))] for n in names]


def annotator_fingerprints(cfg) -> dict[str, str]:
    """Annotator name → fingerprint of its resolved options."""
    def options(n: str) -> Any:
        return fingerprint_data(ANNOTATORS.config(n, cfg.annotator_options.get(n)))

    return {n: fingerprint({"annotator": n, "options": options(n)}, schema=SCHEMA) for n in cfg.annotators}


def stage_fingerprints(cfg) -> dict[str, str]:
    """Stage name → fingerprint, for the stages of this config's plan (in run order) plus "filters" and "writer"."""
    out = {"split": fingerprint({"tasks": list(cfg.tasks), "split": fingerprint_data(cfg.split),
                                 "clip_filters": _filter_data(cfg, cfg.clip_filters)}, schema=SCHEMA, stage="split"),
           "caption": fingerprint({"caption": fingerprint_data(cfg.caption), "judge": bool(cfg.judge),
                                   "llm_judge": _filter_data(cfg, ["llm_judge"]) if cfg.judge else None},
                                  schema=SCHEMA, stage="caption")}
    per = annotator_fingerprints(cfg)
    for name, names in annotator_groups(cfg):
        out[name] = fingerprint({"annotators": [[n, per[n]] for n in names]}, schema=SCHEMA, stage=name)
    out["filters"] = fingerprint({"task_filters": _filter_data(cfg, cfg.task_filters)}, schema=SCHEMA, stage="filters")
    out["writer"] = fingerprint(cfg.writer, schema=SCHEMA, stage="writer")
    return out
