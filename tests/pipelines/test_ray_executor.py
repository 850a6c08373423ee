"""The Ray executor on a real local Ray (num_cpus=2): same shards, manifest and failures as the local executor."""
from __future__ import annotations

import pytest

from tests.pipelines._steps import annotate_stage, source_stage, split_stage, write_spec
from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build
from uvc_data.writer.executors.ray_data import operator_args


def test_gpus_are_requested_only_by_gpu_stages():
    assert operator_args(StageSpec("cpu", source_stage, num_cpus=2)) == {"num_cpus": 2}
    assert operator_args(StageSpec("gpu", source_stage, num_cpus=1, num_gpus=0.5)) == {"num_cpus": 1,
                                                                                        "num_gpus": 0.5}


@pytest.mark.ray
def test_ray_build_equals_local_build_byte_for_byte(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        write_spec(folder / f"v{i}.json", clips=4, frames=4, seed=i, brightness=0.3 if i == 1 else 1.0)
    write_spec(folder / "bad.json", clips=3, fail_at=1)
    write_spec(folder / "boom.json", clips=2, prompt="explode")
    inputs = discover_inputs([str(folder)], extensions=(".json",))
    # decode → 1→2 split (lineage sub-indices) → annotate (drops, rejects, a raise), two actors on the last stage
    stages = [StageSpec("decode", source_stage), StageSpec("split", split_stage),
              StageSpec("annotate", annotate_stage, concurrency=(1, 2))]
    writer = WriterConfig(samples_per_shard=5)
    local = run_build(inputs, stages, tmp_path / "local", ExecutorConfig(quiet=True), writer, "fp")
    ray = run_build(inputs, stages, tmp_path / "ray", ExecutorConfig(kind="ray", num_cpus=2, quiet=True), writer,
                    "fp")
    assert (ray.done, ray.failed, ray.samples, ray.rejected) == (local.done, local.failed, local.samples,
                                                                 local.rejected) == (3, 2, 12, 6)
    assert ray.step_stats == local.step_stats
    names = ["manifest.parquet", "failures.jsonl"] + [f"shards/{p.name}" for p in (tmp_path / "local" / "shards").iterdir()]
    assert len(names) == 2 + local.shards
    for name in names:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
