"""run_build with the local executor: shards, manifest, failures, stats, resume policy — on small real steps."""
from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.pipelines._steps import Mp4Source, annotate_stage, source_stage, split_stage, write_spec
from uvc_data.errors import ConfigError, UVCError
from uvc_data.shards import iter_samples
from uvc_data.video.codec import encode_video
from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build
from uvc_data.writer.layout import OutDir

QUIET = ExecutorConfig(quiet=True)
STAGES = [StageSpec("decode", source_stage), StageSpec("annotate", annotate_stage)]


@pytest.fixture()
def specs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        write_spec(folder / f"v{i}.json", clips=4, frames=4, seed=i, brightness=0.3 if i == 1 else 1.0)
    write_spec(folder / "bad.json", clips=3, fail_at=1)
    (folder / "garbage.json").write_text("{not json")
    write_spec(folder / "boom.json", clips=2, prompt="explode")
    return discover_inputs([str(folder / "*.json")])


def _build(inputs, out, stages=STAGES, exec_cfg=QUIET, writer=None, fp="fp"):
    return run_build(inputs, stages, out, exec_cfg, writer or WriterConfig(samples_per_shard=4), fp)


def test_build_writes_shards_manifest_failures_and_stats(specs, tmp_path, capsys):
    out = tmp_path / "out"
    s = run_build(specs, STAGES, out, ExecutorConfig(), WriterConfig(samples_per_shard=4), "fp")
    # 3 good inputs x 4 clips, clip 2 dropped by DropLast → 9 records; v1 is dark → 3 rejected, 6 kept.
    assert (s.inputs, s.done, s.failed, s.clips, s.samples, s.rejected, s.shards) == (6, 3, 3, 9, 6, 3, 2)
    assert s.samples_per_task == {"gray": 2, "t2v": 6}  # odd clips lose gray
    # grouped by reason (three distinct measured values, one line); the values stay in the manifest
    assert s.rejects_by_reason == {"too dark … < …": 3}
    assert s.task_rejects["gray"] == {"odd clip": 4, "too dark … < …": 3}
    assert s.failures_by_error == {"BadInputError": 2, "RuntimeError": 1}
    # work done for failed inputs counts too: bad.json's clip 0 went through annotate before clip 1 raised
    assert s.step_stats["annotate/drop_last"] == {"in": 13, "out": 10}
    assert set(s.seconds_per_stage) == {"decode", "annotate", "write"}
    # per-step seconds (exclusive: each step's own work) of every SampleStep; a plain Step (the spec source) reports
    # its own seconds only if it times itself, as DecodeSplit does
    assert set(s.seconds_per_step) == {"annotate/brightness", "annotate/explode",
                                       "annotate/gray_control", "annotate/dark_filter", "annotate/drop_last"}
    assert sum(v for k, v in s.seconds_per_step.items() if k.startswith("annotate/")) <= \
        s.seconds_per_stage["annotate"] + 1e-3
    err = capsys.readouterr().err
    assert "3 failed" in err and "too dark … < …: 3" in err and "staging" in err  # summary + progress bar on stderr

    samples = list(iter_samples(out / "shards"))
    assert [x.key.split("_")[1] for x in samples] == ["0000", "0001", "0003"] * 2
    assert [x.provenance.input_index for x in samples] == [3, 3, 3, 5, 5, 5]  # bad, boom, garbage, v0, v1, v2
    assert samples[0].frames.shape == (4, 32, 48, 3) and samples[0].conditions["gray"].shape == (4, 32, 48, 3)
    assert samples[1].tasks == ["t2v"] and samples[1].rejected == {"gray": "odd clip"}

    table = pq.read_table(out / "manifest.parquet")
    rows = table.to_pylist()
    assert len(rows) == 9 and [r["status"] for r in rows].count("rejected") == 3
    kept = [r for r in rows if r["status"] == "ok"]
    v0, v2 = (next(v.source_id for v in specs if v.path.endswith(f"/{n}.json")) for n in ("v0", "v2"))
    # shard groups named by input (v1 is all rejected: no shard), positions within the input's group
    assert [(r["shard"], r["position"]) for r in kept] == [(f"{v0}-0000.tar", i) for i in range(3)] + \
        [(f"{v2}-0000.tar", i) for i in range(3)]
    assert sorted(p.name for p in (out / "shards").iterdir()) == [f"{v0}-0000.tar", f"{v2}-0000.tar"]
    assert not any((out / "_staging").iterdir())  # every input committed or failed: staging removed
    dark = [r for r in rows if r["status"] == "rejected"]
    assert all(r["shard"] is None and r["reject_reason"].startswith("too dark 0.") for r in dark)
    assert len({r["reject_reason"] for r in dark}) == 3  # exact values per sample
    assert dict(kept[0]["signals"])["brightness"] == pytest.approx(samples[0].signals["brightness"])
    assert kept[0]["bytes"] > 0 and kept[0]["conditions"] == ["gray"]

    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert [(f["source"].rsplit("/", 1)[1], f["stage"], f["error"]) for f in failures] == [
        ("bad.json", "decode", "BadInputError"), ("boom.json", "annotate", "RuntimeError"),
        ("garbage.json", "decode", "BadInputError")]
    assert "broken at clip 1" in failures[0]["message"] and "Traceback" in failures[0]["traceback"]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["samples"] == 6 and stats["throughput"]["inputs_per_s"] > 0


def test_duckdb_reads_the_manifest(specs, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "out"
    _build(specs, out)
    per_status = duckdb.sql(f"SELECT status, count(*) FROM '{out}/manifest.parquet' GROUP BY status ORDER BY 1")
    assert per_status.fetchall() == [("ok", 6), ("rejected", 3)]
    gray = duckdb.sql(f"SELECT count(*) FROM '{out}/manifest.parquet' WHERE list_contains(tasks, 'gray')")
    assert gray.fetchall() == [(2,)]
    why = duckdb.sql(f"SELECT rejected['gray'] FROM '{out}/manifest.parquet' WHERE clip = 1 AND status = 'ok'")
    assert {r[0] for r in why.fetchall()} == {"odd clip"}


def _files(out):
    names = ["manifest.parquet", "failures.jsonl"] + [f"shards/{p.name}" for p in sorted((out / "shards").iterdir())]
    return {n: (out / n).read_bytes() for n in names}


def test_two_clean_builds_are_byte_identical_and_rerun_does_nothing(specs, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _build(specs, a)
    _build(specs, b)
    assert _files(a) == _files(b) and len(_files(a)) == 4
    shard = next((a / "shards").iterdir())
    before = shard.stat().st_mtime_ns
    again = _build(specs, a)
    assert again.processed_this_run == 0 and again.done == 3 and again.failed == 3
    assert _files(a) == _files(b)
    assert shard.stat().st_mtime_ns == before  # a committed shard group is never written again


def test_packing_limits_apply_to_inputs_committed_from_then_on(specs, tmp_path):
    out = tmp_path / "out"
    s = _build(specs[:5], out, writer=WriterConfig(samples_per_shard=1))  # bad, boom, garbage, v0, v1
    assert s.shards == 3  # v0's 3 kept samples, one per shard; v1 is all rejected
    s = _build(specs, out, writer=WriterConfig(samples_per_shard=1000))
    assert s.shards == 4 and s.processed_this_run == 1 and s.samples == 6  # v2: one shard of 3
    names = [r["shard"] for r in pq.read_table(out / "manifest.parquet").to_pylist() if r["shard"]]
    assert sorted(set(names)) == sorted(p.name for p in (out / "shards").iterdir())


def test_config_change_is_refused_unless_told(specs, tmp_path):
    out = tmp_path / "out"
    _build(specs, out, fp="first")
    with pytest.raises(ConfigError, match="on_config_change"):
        _build(specs, out, fp="second")
    with pytest.raises(ConfigError, match="on_config_change"):  # the encoder settings are part of it
        _build(specs, out, fp="first", writer=WriterConfig(crf=30))
    kept = _build(specs, out, fp="second", exec_cfg=ExecutorConfig(quiet=True, on_config_change="keep"))
    assert kept.processed_this_run == 0
    redone = _build(specs, out, fp="third", exec_cfg=ExecutorConfig(quiet=True, on_config_change="restage"))
    assert redone.processed_this_run == 6 and redone.samples == 6


def test_retry_failed_reruns_only_failures(specs, tmp_path):
    out = tmp_path / "out"
    _build(specs, out)
    fixed = next(v for v in specs if v.path.endswith("bad.json"))
    write_spec(fixed.path, clips=3, seed=9)  # same size? no: the source_id changes with the size, so rebuild the list
    inputs = discover_inputs([str(tmp_path / "in" / "*.json")])
    s = _build(inputs, out, exec_cfg=ExecutorConfig(quiet=True, retry_failed=True))
    assert s.processed_this_run == 3  # the 2 still-failing inputs + the fixed one (a new source_id)
    assert s.failed == 2 and s.done == 4


def test_a_staged_input_is_committed_by_the_rerun_or_restaged_when_a_part_is_gone(specs, tmp_path, monkeypatch):
    """A commit that fails leaves the input staged: the rerun commits it without staging it again; an input whose
    staged part was deleted is staged again. Stale .tmp files are swept."""
    import uvc_data.writer.executors.local as local

    clean = tmp_path / "clean"
    _build(specs, clean)
    real = local.commit
    v2 = next(v.source_id for v in specs if v.path.endswith("/v2.json"))  # the last input

    def failing(spec, source_id, writer):
        if source_id == v2:
            raise OSError("store unreachable")
        return real(spec, source_id, writer)

    for name, lose_a_part in (("commit_only", False), ("restage", True)):
        out = tmp_path / name
        monkeypatch.setattr(local, "commit", failing)
        with pytest.raises(OSError, match="unreachable"):
            _build(specs, out)
        monkeypatch.undo()
        staged = OutDir(out).staging.input_dir(v2)
        assert (staged / "done.json").exists() and not (out / "inputs" / f"{v2}.done.json").exists()
        if lose_a_part:
            next(staged.glob("*.tar")).unlink()
        (out / "shards" / "x-0009.tar.tmp").write_bytes(b"half")
        s = _build(specs, out)
        assert s.processed_this_run == int(lose_a_part) and s.samples == 6 and s.done == 3
        assert not list(out.rglob("*.tmp")) and not staged.exists()
        assert _files(out) == _files(clean)


def test_one_build_per_out_dir(specs, tmp_path):
    out = OutDir(tmp_path / "out")
    out.prepare()
    out.lock()
    try:
        with pytest.raises(UVCError, match="another build is running"):
            _build(specs, out.root)
    finally:
        out.unlock()


def test_split_stage_and_a_real_mp4(tmp_path):
    rng = np.random.default_rng(0)
    frames = np.repeat(rng.integers(40, 255, (20, 6, 8, 3), dtype=np.uint8), 8, axis=1).repeat(8, axis=2)
    video = tmp_path / "in" / "real.mp4"
    video.parent.mkdir()
    video.write_bytes(encode_video(frames, 10.0))
    stages = [StageSpec("decode", lambda: [Mp4Source(clip_frames=8)]), StageSpec("split", split_stage)]
    s = _build(discover_inputs([str(video.parent)]), tmp_path / "out", stages=stages)
    assert s.done == 1 and s.samples == 4  # 2 clips of 8 frames, each split in halves
    got = list(iter_samples(tmp_path / "out" / "shards"))
    assert [x.key[-5:] for x in got] == ["0000a", "0000b", "0001a", "0001b"]
    assert all(x.num_frames == 4 and x.fps == pytest.approx(10.0) for x in got)


@pytest.mark.parametrize("field, value", [("samples_per_shard", 0), ("max_shard_bytes", 10), ("crf", 60),
                                          ("preset", "turbo")])
def test_writer_config_errors_name_the_field(field, value, specs, tmp_path):
    with pytest.raises(ConfigError, match=field):
        _build(specs, tmp_path / "out", writer=WriterConfig(**{field: value}))


def test_stage_spec_checks(specs, tmp_path):
    with pytest.raises(ConfigError, match="at least one stage"):
        _build(specs, tmp_path / "o", stages=[])
    with pytest.raises(ConfigError, match="unique"):
        _build(specs, tmp_path / "o", stages=[StageSpec("a", source_stage), StageSpec("a", annotate_stage)])
    with pytest.raises(ConfigError, match="concurrency"):
        _build(specs, tmp_path / "o", stages=[StageSpec("a", source_stage, concurrency=(3, 1))])


def test_reason_group_masks_measured_values_only():
    from uvc_data.writer.report import reason_group

    assert reason_group("motion: too little motion 0.00041 < min_motion 0.001") == \
        reason_group("motion: too little motion 0.00040 < min_motion 0.001") == \
        "motion: too little motion … < min_motion …"
    assert reason_group("caption empty or fragmentary (2 words < caption.min_words=3)") == \
        "caption empty or fragmentary (… words < caption.min_words=…)"
    assert reason_group("task_aware: person in 40% of frames < 50%") == "task_aware: person in … of frames < …"
    assert reason_group("llm_judge: judge said no for r2v and t2v") == "llm_judge: judge said no for r2v and t2v"


def test_lock_on_a_filesystem_without_flock(specs, tmp_path, monkeypatch):
    """Where flock is not supported (the call fails with ENOLCK, as on some network filesystems) the owner file
    locks the out dir instead; a dead owner on this host is taken over."""
    import errno
    import fcntl
    import json
    import subprocess
    import sys

    def no_flock(fh, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    out = OutDir(tmp_path / "out")
    out.prepare()
    out.lock()
    try:
        owner_file = tmp_path / "out" / ".lock.owner"
        assert json.loads(owner_file.read_text())["pid"] == __import__("os").getpid()
        with pytest.raises(UVCError, match="has no flock, so the lock is that file"):
            _build(specs, out.root)
    finally:
        out.unlock()
    assert not owner_file.exists()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    owner_file.write_text(json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout), "since": 0}))
    s = _build(specs, out.root)  # the stale owner (a finished process) is taken over
    assert s.done == 3 and not owner_file.exists()


def test_staging_left_by_a_kill_after_a_marker_is_removed_by_the_rerun(specs, tmp_path):
    """A run killed between a commit or failure marker and the removal of that input's staging: the rerun removes it."""
    out = tmp_path / "out"
    _build(specs, out)
    layout = OutDir(out)
    for name in ("v0", "bad"):
        folder = layout.staging.input_dir(next(v.source_id for v in specs if v.path.endswith(f"/{name}.json")))
        folder.mkdir()
        (folder / "000000.tar").write_bytes(b"left")
    s = _build(specs, out)
    assert s.processed_this_run == 0 and not any(layout.staging.root.iterdir())
