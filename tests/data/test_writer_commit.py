"""Shard groups committed per input: finishing reads fragments only, adding inputs never rewrites a shard, tiny
inputs get small shards of their own, and an out dir of the earlier layout is refused with the option to rebuild."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from tests.pipelines._steps import annotate_stage, source_stage, write_spec
from uvc_data.errors import ConfigError
from uvc_data.shards import iter_samples
from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build

QUIET = ExecutorConfig(quiet=True)
STAGES = [StageSpec("decode", source_stage), StageSpec("annotate", annotate_stage)]


def _folder(tmp_path, n, start=0, clips=4, **size):
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for i in range(start, start + n):
        write_spec(folder / f"v{i}.json", clips=clips, frames=4, seed=i, **size)
    return discover_inputs([str(folder / "*.json")])


def _build(inputs, out, writer=None):
    return run_build(inputs, STAGES, out, QUIET, writer or WriterConfig(samples_per_shard=2), "fp")


def test_finishing_reads_markers_and_fragments_only(tmp_path):
    out = tmp_path / "out"
    inputs = _folder(tmp_path, 3, height=128, width=192)
    s = _build(inputs, out)
    small = sum(p.stat().st_size for p in (out / "inputs").iterdir())
    shards = sum(p.stat().st_size for p in (out / "shards").iterdir())
    # the driver read exactly the commit markers and fragments, not one of the shard bytes (which the earlier
    # layout's driver read all of, from the staged parts); ~11 KB per input of Parquet footer and JSON here
    assert s.finish_bytes_read == small and shards > 3 * small, (small, shards)
    again = _build(inputs, out)
    assert again.finish_bytes_read == small and again.processed_this_run == 0


def test_adding_inputs_never_rewrites_a_committed_shard(tmp_path):
    out = tmp_path / "out"
    first = _folder(tmp_path, 2, start=1)  # v1, v2
    _build(first, out)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (out / "shards").iterdir()}
    _folder(tmp_path, 1, start=0)
    everything = _folder(tmp_path, 1, start=3)  # v0 sorts first, v3 last
    s = _build(everything, out)
    assert len(everything) == 4 and s.done == 4 and s.processed_this_run == 2
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (out / "shards").iterdir()}
    assert {k: after[k] for k in before} == before  # same bytes, never written again
    rows = pq.read_table(out / "manifest.parquet").to_pylist()
    assert [r["source"].rsplit("/", 1)[1] for r in rows if r["clip"] == 0] == ["v0.json", "v1.json", "v2.json",
                                                                               "v3.json"]
    # v1's samples keep the input_index of the run that staged them (documented): 0, then v0 took 0
    assert {r["input_index"] for r in rows if r["source"].endswith("v1.json")} == {0}
    # the same four inputs built at once give the same shards (input_index aside, which the json member carries)
    fresh = tmp_path / "fresh"
    _build(everything, fresh)
    assert sorted(p.name for p in (fresh / "shards").iterdir()) == sorted(after)
    v0 = next(n for n in after if n.startswith("v0-"))
    assert (fresh / "shards" / v0).read_bytes() == after[v0][0]


def test_tiny_inputs_are_small_shards_of_their_own(tmp_path):
    out = tmp_path / "out"
    s = _build(_folder(tmp_path, 3, clips=1), out, WriterConfig(samples_per_shard=1000))
    assert s.samples == 3 and s.shards == 3
    assert [len(list(iter_samples(p, decode=False))) for p in sorted((out / "shards").iterdir())] == [1, 1, 1]


def test_an_out_dir_of_the_earlier_layout_is_refused_unless_restaged(tmp_path):
    out = tmp_path / "old"
    (out / "shards").mkdir(parents=True)
    (out / "shards" / "shard-000000.tar").write_bytes(b"")
    (out / "build.json").write_text(json.dumps({"schema": "uvc-build/1", "fingerprint": "x"}))
    inputs = _folder(tmp_path, 1)
    with pytest.raises(ConfigError, match="executor.on_config_change.*earlier layout uvc-build/1"):
        _build(inputs, out)
    s = run_build(inputs, STAGES, out, ExecutorConfig(quiet=True, on_config_change="restage"),
                  WriterConfig(), "fp")
    assert s.done == 1 and [p.name.startswith("v0-") for p in (out / "shards").iterdir()] == [True]
    assert json.loads((out / "build.json").read_text())["schema"] == "uvc-build/2"
