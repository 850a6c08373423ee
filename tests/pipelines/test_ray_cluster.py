"""A simulated two-node Ray cluster (ray.cluster_utils.Cluster: a head and a worker node, 2 CPUs each): the build
joins it by address, its stages' actors are placed on both nodes, and the shards, manifest and failures are
byte-identical to the local executor's."""
from __future__ import annotations

import os

import pytest

from tests.pipelines._cluster_steps import NodeRecorder, in_fresh_process, recorded_nodes
from tests.pipelines._steps import annotate_stage, source_stage, split_stage, write_spec
from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build


@pytest.mark.ray
@pytest.mark.slow
def test_two_node_cluster_places_stages_on_both_nodes_and_gives_the_same_bytes(tmp_path):
    in_fresh_process(two_node_case, tmp_path)


def two_node_case(tmp_path):
    import ray
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        write_spec(folder / f"v{i}.json", clips=3, frames=4, seed=i, brightness=0.3 if i == 1 else 1.0)
    write_spec(folder / "bad.json", clips=3, fail_at=1)
    inputs = discover_inputs([str(folder)], extensions=(".json",))
    writer = WriterConfig(samples_per_shard=4)
    local = run_build(inputs, [StageSpec("decode", source_stage), StageSpec("split", split_stage),
                               StageSpec("annotate", annotate_stage)], tmp_path / "local",
                      ExecutorConfig(quiet=True), writer, "fp")

    log = str(tmp_path / "nodes.log")
    stages = [StageSpec(name, NodeRecorder(name, log), num_cpus=1, concurrency=2)
              for name in ("decode", "split", "annotate")]
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=2)
        cluster.wait_for_nodes()
        cfg = ExecutorConfig(kind="ray", ray_address=cluster.address, quiet=True)
        remote = run_build(inputs, stages, tmp_path / "cluster", cfg, writer, "fp")
        nodes = {n["NodeID"] for n in ray.nodes()} if ray.is_initialized() else None
    finally:
        if ray.is_initialized():
            ray.shutdown()
        cluster.shutdown()
    placed = recorded_nodes(log)
    assert len(set().union(*placed.values())) == 2, placed  # actors ran on both nodes
    assert nodes is None or set().union(*placed.values()) <= nodes
    assert (remote.done, remote.failed, remote.samples) == (local.done, local.failed, local.samples) == (4, 1, 12)
    names = ["manifest.parquet", "failures.jsonl"] + [f"shards/{p.name}" for p in (tmp_path / "local" / "shards").iterdir()]
    assert len(names) == 2 + local.shards
    for name in names:
        assert (tmp_path / "cluster" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
