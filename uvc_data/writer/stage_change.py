"""Per-stage fingerprints of an out dir: which stages a changed config touches, and whether they can be re-run.

`build.json` (and each input's commit marker) records `stage_fingerprints`: stage name → a fingerprint of exactly the
config that stage reads (pipelines.stage_fingerprints computes them), plus "writer" (the encoder settings). A rerun
of `uvc data build` with another config names the stages whose fingerprint changed; when every changed stage can be
re-run from the shards (no decoding of the sources), it names the `uvc data rerun` command that redoes just those.
"""
from __future__ import annotations

# every stage a plan can have, in run order; "filters" are the task-aware filters (they run in the last stage)
STAGE_ORDER = ("split", "caption", "annotate", "depth", "pose", "flow", "filters", "writer")
# stages `uvc data rerun` redoes from the shards (split decodes the sources; the writer's settings fix every byte)
RERUNNABLE = ("caption", "annotate", "depth", "pose", "flow", "filters")


def changed_stages(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Stages (in run order) whose fingerprint differs, appeared or disappeared."""
    names = [s for s in STAGE_ORDER if s in old or s in new]
    names += sorted(n for n in {*old, *new} if n not in STAGE_ORDER)
    return [s for s in names if old.get(s) != new.get(s)]


def rerun_command(out: str, stages: list[str]) -> str:
    return f"uvc data rerun {out} " + " ".join(f"--stage {s}" for s in stages)


def describe_change(out: str, old: dict[str, str] | None, new: dict[str, str] | None) -> str:
    """What changed, for the message of a refused rerun ("" when the old build recorded no stage fingerprints)."""
    if not old or not new:
        return ""
    changed = changed_stages(old, new)
    if not changed:
        return ""
    text = f"Stages whose config changed: {', '.join(changed)}."
    if all(s in RERUNNABLE for s in changed):
        present = [s for s in changed if s in new]  # a stage the new plan no longer has needs no rerun
        if present:
            text += (f" Each can be re-run from the shards without decoding the sources: "
                     f"`{rerun_command(out, present)}` with this run's --recipe/--config/--set redoes just those.")
    else:
        fixed = [s for s in changed if s not in RERUNNABLE]
        text += (f" {', '.join(fixed)} cannot be re-run from the shards (the split decodes the sources; the writer "
                 "fixes every byte).")
    return text
