"""Stages with batch_size > 1 (how the caption stage gets several clips per call): the local and the Ray executor
hand the steps batches, and the build is byte-for-byte the build made one sample at a time — drops, 1→2 splits, a
step raising on one sample of a batch (that sample's input fails, the others go on), inputs that fail early."""
from __future__ import annotations

import json

import pytest

from tests.pipelines._steps import annotate_stage, source_stage, split_stage, write_spec
from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build


def _inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        write_spec(folder / f"v{i}.json", clips=4, frames=4, seed=i, brightness=0.3 if i == 1 else 1.0)
    write_spec(folder / "bad.json", clips=3, fail_at=1)
    write_spec(folder / "boom.json", clips=2, prompt="explode")
    return discover_inputs([str(folder)], extensions=(".json",))


def _stages(batch: int) -> list[StageSpec]:
    return [StageSpec("decode", source_stage), StageSpec("split", split_stage, batch_size=batch),
            StageSpec("annotate", annotate_stage, batch_size=batch)]


def _same(a, b, root_a, root_b):
    assert (a.done, a.failed, a.samples, a.rejected) == (b.done, b.failed, b.samples, b.rejected) == (3, 2, 12, 6)
    assert a.step_stats == b.step_stats
    shards = sorted(p.relative_to(root_a).as_posix() for p in (root_a / "shards").glob("*.tar"))
    assert len(shards) == a.shards and shards == sorted(p.relative_to(root_b).as_posix()
                                                         for p in (root_b / "shards").glob("*.tar"))
    for name in ["manifest.parquet"] + shards:
        assert (root_a / name).read_bytes() == (root_b / name).read_bytes(), name
    assert _failures(root_a) == _failures(root_b)  # the tracebacks differ: batches take another call path


def _failures(root) -> list[dict]:
    rows = [json.loads(line) for line in (root / "failures.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "traceback"} for r in rows]


def test_local_batched_stages_build_what_one_at_a_time_builds(tmp_path):
    inputs, writer = _inputs(tmp_path), WriterConfig(samples_per_shard=5)
    one = run_build(inputs, _stages(1), tmp_path / "one", ExecutorConfig(quiet=True), writer, "fp")
    three = run_build(inputs, _stages(3), tmp_path / "three", ExecutorConfig(quiet=True), writer, "fp")
    _same(three, one, tmp_path / "three", tmp_path / "one")


def test_batch_size_must_be_positive():
    from uvc_data.errors import ConfigError

    with pytest.raises(ConfigError, match="batch_size"):
        StageSpec("caption", source_stage, batch_size=0).validate()


@pytest.mark.ray
@pytest.mark.slow  # ~70 s on the loaded 2-core machine (two builds, Ray start-up)
def test_ray_batched_stages_build_what_one_at_a_time_builds(tmp_path):
    inputs, writer = _inputs(tmp_path), WriterConfig(samples_per_shard=5)
    one = run_build(inputs, _stages(1), tmp_path / "one", ExecutorConfig(quiet=True), writer, "fp")
    ray = run_build(inputs, _stages(3), tmp_path / "ray", ExecutorConfig(kind="ray", num_cpus=2, quiet=True), writer,
                    "fp")
    _same(ray, one, tmp_path / "ray", tmp_path / "one")
