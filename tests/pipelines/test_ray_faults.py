"""Faults contained on a real local Ray: an input that kills its worker (os._exit, os.abort) in the first or a later
stage is recorded as "crashed K times" and not retried forever; one that hangs is stopped by the time limit; the
good inputs are built as usual; --retry-failed tries the failed ones again."""
from __future__ import annotations

import json

import pytest

from tests.pipelines._steps import hazard_stage, source_stage, write_spec
from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build
from uvc_data.writer.executors.ray_data import operator_args


def test_task_retries_are_bounded():
    args = operator_args(StageSpec("decode", source_stage), ExecutorConfig(kind="ray", max_crashes=2))
    assert args == {"num_cpus": 1, "max_restarts": -1, "max_task_retries": 3}


@pytest.mark.ray
@pytest.mark.slow
def test_crashing_and_hanging_inputs_are_recorded_and_the_rest_is_built(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_spec(folder / "a_good.json", clips=3, frames=4, seed=1)
    write_spec(folder / "b_exit.json", clips=3, frames=4, hazard={"how": "exit", "at": 1})
    write_spec(folder / "c_abort_later.json", clips=2, frames=4, prompt="hazard:abort")
    write_spec(folder / "d_hang.json", clips=2, frames=4, hazard={"how": "hang", "at": 0})
    write_spec(folder / "e_good.json", clips=2, frames=4, seed=2)
    inputs = discover_inputs([str(folder)], extensions=(".json",))
    stages = [StageSpec("decode", source_stage), StageSpec("annotate", hazard_stage)]
    cfg = ExecutorConfig(kind="ray", num_cpus=2, quiet=True, max_crashes=2, timeout_s=8.0)
    s = run_build(inputs, stages, tmp_path / "out", cfg, WriterConfig(), "fp")
    assert (s.done, s.failed, s.samples) == (2, 3, 5)
    failures = {json.loads(line)["source"].split("/")[-1]: json.loads(line)
                for line in (tmp_path / "out" / "failures.jsonl").read_text().splitlines()}
    assert failures["b_exit.json"]["error"] == "WorkerCrashed" and "crashed 2 times in stage decode" in \
        failures["b_exit.json"]["message"]
    assert failures["c_abort_later.json"]["error"] == "WorkerCrashed"
    assert "in stage annotate" in failures["c_abort_later.json"]["message"]  # Ray may give up before 2
    assert failures["d_hang.json"]["error"] == "Timeout" and "executor.timeout_s=8" in failures["d_hang.json"]["message"]
    marked = {p.parts[-3].split("-")[0] for p in (tmp_path / "out" / "_staging").glob("*/attempts/*.json")}
    assert "a_good" not in marked and "e_good" not in marked  # finished items leave no marker
    # the failures are recorded: a plain rerun does not retry them
    again = run_build(inputs, stages, tmp_path / "out", cfg, WriterConfig(), "fp")
    assert (again.processed_this_run, again.failed) == (0, 3)
