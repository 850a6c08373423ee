"""build-suite: deterministic seeded selection, the recorded hold-out, which samples serve which task."""
import json

import pytest

from tests.fixtures.bench_suite import build_tiny_suite
from tests.fixtures.synthetic import synthetic_sample
from uvc_data.errors import ConfigError, UnknownNameError
from uvc_data.shards import sample_to_wds, write_tar
from uvc_data.tasks import get_task
from uvc_bench.build_suite import BuildSuiteConfig, build_suite, select_cases, serves


def _metas(n):
    return [{"key": f"k{i}", "tasks": [], "rejected": {}, "conditions": {"depth": "video"}, "split": "train"}
            for i in range(n)]


def test_selection_is_deterministic_and_seeded():
    depth = [get_task("depth")]
    a = select_cases(_metas(50), depth, 20, seed=1)["depth"]
    assert a == select_cases(list(reversed(_metas(50))), depth, 20, seed=1)["depth"]  # shard order does not matter
    assert len(a) == 20 and len(set(a)) == 20
    assert a != select_cases(_metas(50), depth, 20, seed=2)["depth"]
    assert select_cases(_metas(5), depth, 20, seed=1)["depth"].__len__() == 5


def test_serves_reads_tasks_rejections_and_conditions():
    meta = {"key": "k", "tasks": [], "rejected": {"pose": "no person"},
            "conditions": {"depth": "video", "pose": "video", "ref_images": "images:1"}}
    assert serves(get_task("depth"), meta)
    assert not serves(get_task("pose"), meta)
    assert not serves(get_task("reference+pose"), meta)  # its control was rejected
    assert serves(get_task("reference+depth"), meta)
    assert not serves(get_task("outpainting"), meta)  # no outpaint mask
    assert serves(get_task("outpainting"), {**meta, "tasks": ["outpainting"]})
    assert not serves(get_task("depth"), {**meta, "rejected": {"clip": "too dark"}})


def test_build_writes_index_holdout_and_manifest(tmp_path):
    root = build_tiny_suite(tmp_path, n_samples=3, per_task=2)
    manifest = json.loads((root / "suite.json").read_text())
    holdout = (root / "holdout.txt").read_text().split()
    chosen = {k for keys in manifest["selection"].values() for k in keys}
    assert set(holdout) == chosen and holdout == sorted(holdout)
    assert all(len(v) == 2 for v in manifest["selection"].values()) and len(manifest["selection"]) == 18
    assert manifest["seed"] == 2025 and manifest["height"] == 32 and manifest["num_frames"] == 9
    lines = [json.loads(s) for s in (root / "indices" / "uvcbench_single.txt").read_text().splitlines()]
    depth = [r for r in lines if r["subtask"] == "depth"]
    assert [r["sample_id"] for r in depth] == manifest["selection"]["depth"]
    for r in lines:
        for k in ("src_video", "src_mask", "gt_video", *r["src_ref_images"]):
            path = r.get(k, k)
            if path:
                assert (root / path).is_file()
    first = (root / "indices" / "uvcbench_single.txt").read_bytes()
    build_tiny_suite(tmp_path, n_samples=3, per_task=2)  # rebuild: same bytes
    assert (root / "indices" / "uvcbench_single.txt").read_bytes() == first


def test_split_filter_and_shortfall(tmp_path):
    s = synthetic_sample("only", seed=0)
    s.split = "bench"
    t = synthetic_sample("other", seed=1)
    (tmp_path / "sh").mkdir()
    write_tar(tmp_path / "sh" / "a.tar", [sample_to_wds(s, preset="ultrafast"), sample_to_wds(t, preset="ultrafast")])
    logs = []
    m = build_suite(BuildSuiteConfig(shards=[str(tmp_path / "sh")], out=str(tmp_path / "suite"), per_task=3,
                                     tasks=["depth"], split="bench"), log=logs.append)
    assert m["selection"] == {"depth": ["only"]} and m["short"] == {"depth": 1}
    assert any("only 1 of 3" in line for line in logs)


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match="shards"):
        build_suite(BuildSuiteConfig(out=str(tmp_path)))
    with pytest.raises(ConfigError, match="per_task"):
        build_suite(BuildSuiteConfig(shards=["x"], out=str(tmp_path), per_task=0))
    with pytest.raises(UnknownNameError, match="Did you mean 'depth'"):
        build_suite(BuildSuiteConfig(shards=["x"], out=str(tmp_path), tasks=["detph"]))
