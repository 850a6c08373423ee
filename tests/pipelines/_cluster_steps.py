"""Test-only factories that record which Ray node built each stage's steps (test code may import Ray; library steps
never do)."""
from __future__ import annotations

import os

from tests.pipelines._steps import annotate_stage, source_stage, split_stage


class NodeRecorder:
    """A picklable stage factory: appends "<stage> <node id>" to `log` in every worker that builds the stage."""

    def __init__(self, stage: str, log: str):
        self.stage, self.log = stage, log

    def __call__(self):
        import ray

        with open(self.log, "a", encoding="utf-8") as fh:
            fh.write(f"{self.stage} {ray.get_runtime_context().get_node_id()}\n")
        return {"decode": source_stage, "split": split_stage, "annotate": annotate_stage}[self.stage]()


def recorded_nodes(log: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if os.path.exists(log):
        for line in open(log, encoding="utf-8"):
            stage, node = line.split()
            out.setdefault(stage, set()).add(node)
    return out
