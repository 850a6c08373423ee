"""Builds on an S3-compatible store (moto's server on 127.0.0.1): s3:// inputs and --out s3://, the same bytes as a
local build, kill -9 and resume, the lock object, readers (shards, shard_index, the trainer's stream) on s3://."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.fixtures.s3 import bucket, s3  # noqa: F401 - fixtures
from tests.pipelines._build_script import stages as kill_stages
from tests.pipelines._build_script import writer_cfg as kill_writer
from tests.pipelines._steps import annotate_stage, source_stage, write_spec
from uvc_data.errors import UVCError
from uvc_data.shards import iter_samples
from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build
from uvc_data.writer.lock import BuildLock
from uvc_data.writer.store import Store, default_scratch

REPO = Path(__file__).resolve().parents[2]
QUIET = ExecutorConfig(quiet=True)
STAGES = [StageSpec("decode", source_stage), StageSpec("annotate", annotate_stage)]


def _specs(folder: Path) -> Path:
    folder.mkdir()
    for i in range(3):
        write_spec(folder / f"v{i}.json", clips=4, frames=4, seed=i, brightness=0.3 if i == 1 else 1.0)
    write_spec(folder / "bad.json", clips=3, fail_at=1)
    write_spec(folder / "boom.json", clips=2, prompt="explode")
    return folder


def _store_files(store: str) -> dict[str, bytes]:
    s = Store(store)
    names = ["manifest.parquet", "failures.jsonl"] + [f"shards/{n}" for n in s.list("shards")]
    return {n: s.read_bytes(n) for n in names}


def _members(tar: bytes) -> dict[str, bytes]:
    """A shard's members with the provenance source (the input's path or URL) blanked in the json metadata."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        for m in tf.getmembers():
            data = tf.extractfile(m).read()
            if m.name.endswith(".json"):
                meta = json.loads(data)
                meta["provenance"]["source"] = ""
                data = json.dumps(meta, sort_keys=True).encode()
            out[m.name] = data
    return out


def test_s3_build_from_s3_inputs_equals_local_builds(s3, bucket, tmp_path):
    local_in = _specs(tmp_path / "in")
    s3.fs().put(str(local_in) + "/", f"{bucket}/in/", recursive=True)
    remote_inputs = discover_inputs([f"s3://{bucket}/in/*.json"])
    local_inputs = discover_inputs([str(local_in / "*.json")])
    assert [v.source_id for v in remote_inputs] == [v.source_id for v in local_inputs]  # same tree, same ids

    writer = WriterConfig(samples_per_shard=2, staging_dir=str(tmp_path / "scratch"))
    on_s3 = run_build(remote_inputs, STAGES, f"s3://{bucket}/out", QUIET, writer, "fp")
    here = run_build(remote_inputs, STAGES, tmp_path / "here", QUIET, WriterConfig(samples_per_shard=2), "fp")
    plain = run_build(local_inputs, STAGES, tmp_path / "plain", QUIET, WriterConfig(samples_per_shard=2), "fp")
    assert (on_s3.done, on_s3.failed, on_s3.samples, on_s3.shards) == (here.done, here.failed, here.samples,
                                                                       here.shards) == (3, 2, 6, 4)
    remote, local = _store_files(f"s3://{bucket}/out"), _store_files(str(tmp_path / "here"))
    assert remote == local  # s3 in + s3 out == s3 in + local out, byte for byte
    # staging removed once committed; no upload left behind (empty folders may stay)
    assert not [p for p in (tmp_path / "scratch").rglob("*") if p.is_file()]
    assert not s3.fs().exists(f"{bucket}/out/.lock")
    assert json.loads(Store(f"s3://{bucket}/out").read_bytes("stats.json"))["samples"] == 6

    # from local inputs: the same shards and manifest but for the input's path (provenance source)
    files = _store_files(str(tmp_path / "plain"))
    assert sorted(files) == sorted(local)
    for name in files:
        if name.startswith("shards/"):
            assert _members(files[name]) == _members(local[name]), name
    # (bytes too: the json member holds the source, and a URL is longer than the local path)
    a = pq.read_table(tmp_path / "plain" / "manifest.parquet").drop(["source", "bytes"])
    b = pq.read_table(io.BytesIO(remote["manifest.parquet"])).drop(["source", "bytes"])
    assert a.to_pylist() == b.to_pylist() and plain.samples == 6

    # readers on s3://: shards, shard_index, the trainer's sample stream
    got = [s.key for s in iter_samples(f"s3://{bucket}/out/shards", decode=False)]
    assert got == [s.key for s in iter_samples(tmp_path / "here" / "shards", decode=False)] and len(got) == 6
    from vdot_train.data import SampleStream

    stream = SampleStream([f"s3://{bucket}/out/shards"])
    first = stream.next()
    assert first.key in got and first.frames.shape == (4, 32, 48, 3)


def _run(pattern: str, out: str, env: dict[str, str], *fault: str) -> int:
    cmd = [sys.executable, "-m", "tests.pipelines._build_script", pattern, out, *fault]
    proc = subprocess.run(cmd, cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO), **env), capture_output=True,
                          timeout=120)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"build script failed ({proc.returncode}): {proc.stderr.decode()[-3000:]}")
    return proc.returncode


def test_kill_and_resume_on_s3(s3, bucket, tmp_path):
    folder = _specs(tmp_path / "in")
    s3.fs().put(str(folder) + "/", f"{bucket}/in/", recursive=True)
    pattern, out = f"s3://{bucket}/in/*.json", f"s3://{bucket}/killed"
    clean = run_build(discover_inputs([pattern]), kill_stages(0.0), f"s3://{bucket}/clean", QUIET, kill_writer(),
                      "kill-test")
    assert clean.samples == 6
    kill = -signal.SIGKILL
    try:
        # bad failed, v0 staged, its first shard uploaded, killed writing the second: staged, not committed
        assert _run(pattern, out, s3.env, "--kill-in-shard", "2") == kill
        store = Store(out)
        v0 = next(v.source_id for v in discover_inputs([pattern]) if v.path.endswith("/v0.json"))
        assert store.list("shards") == [f"{v0}-0000.tar"] and not store.exists(f"inputs/{v0}.done.json")
        assert store.exists(".lock")  # left by the killed build: its dead pid on this host is taken over
        assert _run(pattern, out, s3.env) == 0  # clears v0's leftover shard, commits it from staging, builds the rest
    finally:
        scratch = default_scratch(out)
        leftovers = [p for p in scratch.rglob("*") if p.is_file()] if scratch.exists() else []
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    assert _store_files(out) == _store_files(f"s3://{bucket}/clean")
    assert leftovers == []


def test_the_lock_object_on_s3_and_a_store_without_conditional_puts(s3, bucket, tmp_path):
    store = Store(f"s3://{bucket}/locked")
    first = BuildLock(store)
    first.acquire()
    try:
        assert json.loads(store.read_bytes(".lock"))["pid"] == os.getpid()
        other = Store(f"s3://{bucket}/locked")
        with pytest.raises(UVCError, match="another build holds s3://.*/locked/.lock"):
            # same host and a live pid: refused (a dead pid on this host would be taken over)
            BuildLock(other).acquire()
    finally:
        first.release()
    assert not store.exists(".lock") and not store.list("")
    inputs = discover_inputs([str(_specs(tmp_path / "in") / "*.json")])
    with pytest.raises(UVCError, match="executor.lock=off"):
        run_build(inputs, STAGES, "memory://nolock/out", QUIET, WriterConfig(), "fp")
    s = run_build(inputs, STAGES, "memory://nolock/out", ExecutorConfig(quiet=True, lock="off"),
                  WriterConfig(staging_dir=str(tmp_path / "scratch")), "fp")
    assert s.done == 3 and s.samples == 6


def test_pyav_reads_an_s3_video_as_the_local_file(s3, bucket, tmp_path):
    import numpy as np

    from uvc_data.errors import BadInputError
    from uvc_data.testing.synth import make_video
    from uvc_data.video.probe import probe
    from uvc_data.video.reader import DecodeConfig, VideoReader

    local = tmp_path / "v.mp4"
    make_video(local, 96, 64, 10.0, [12, 8])
    s3.fs().put_file(str(local), f"{bucket}/videos/v.mp4")
    url = f"s3://{bucket}/videos/v.mp4"
    import dataclasses

    assert dataclasses.replace(probe(url), path="") == dataclasses.replace(probe(local), path="")
    cfg = DecodeConfig()
    there = [f.rgb for f in VideoReader(url, cfg)]
    here = [f.rgb for f in VideoReader(str(local), cfg)]
    assert len(there) == len(here) == 20 and all(np.array_equal(a, b) for a, b in zip(there, here))
    with pytest.raises(BadInputError, match="no such object"):
        probe(f"s3://{bucket}/videos/missing.mp4")
    found = discover_inputs([f"s3://{bucket}/videos/"])
    assert [v.path for v in found] == [url]
