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


def in_fresh_process(fn, *args, timeout_s: float = 540) -> None:
    """Run a test body in a spawned interpreter. Joining a ray.cluster_utils.Cluster leaves Ray state in the process
    that a later local `ray.init` in the same pytest process trips over (seen: the next local build never starts a
    task), so cluster tests keep their Ray to themselves. The child's assertion output reaches pytest's capture."""
    import multiprocessing

    proc = multiprocessing.get_context("spawn").Process(target=fn, args=args)
    proc.start()
    proc.join(timeout_s)
    if proc.is_alive():
        proc.kill()
        proc.join()
        raise AssertionError(f"{fn.__name__} did not finish in {timeout_s} s")
    assert proc.exitcode == 0, f"{fn.__name__} failed in its process (exit code {proc.exitcode}); see its output above"


def recorded_nodes(log: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if os.path.exists(log):
        for line in open(log, encoding="utf-8"):
            stage, node = line.split()
            out.setdefault(stage, set()).add(node)
    return out
