"""The Ray executor on an S3-compatible store (moto's server on 127.0.0.1): s3:// inputs → --out s3://, each input
committed by a Ray task; the same bytes as the local executor's build to the same store."""
from __future__ import annotations

import pytest

from tests.data.test_writer_s3 import _specs, _store_files
from tests.fixtures.s3 import bucket, s3  # noqa: F401 - fixtures
from tests.pipelines._steps import annotate_stage, source_stage, split_stage
from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build


@pytest.mark.ray
@pytest.mark.slow
def test_ray_build_on_s3_equals_the_local_one(s3, bucket, tmp_path):  # noqa: F811
    s3.fs().put(str(_specs(tmp_path / "in")) + "/", f"{bucket}/in/", recursive=True)
    inputs = discover_inputs([f"s3://{bucket}/in/"], extensions=(".json",))
    stages = [StageSpec("decode", source_stage), StageSpec("split", split_stage),
              StageSpec("annotate", annotate_stage, concurrency=(1, 2))]
    writer = WriterConfig(samples_per_shard=3, staging_dir=str(tmp_path / "scratch"))
    local = run_build(inputs, stages, f"s3://{bucket}/local", ExecutorConfig(quiet=True), writer, "fp")
    ray = run_build(inputs, stages, f"s3://{bucket}/ray", ExecutorConfig(kind="ray", num_cpus=2, quiet=True),
                    writer, "fp")
    assert (ray.done, ray.failed, ray.samples) == (local.done, local.failed, local.samples) == (3, 2, 12)
    assert _store_files(f"s3://{bucket}/ray") == _store_files(f"s3://{bucket}/local")
    assert not [p for p in (tmp_path / "scratch").rglob("*") if p.is_file()]
