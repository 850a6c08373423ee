"""kill -9 at many points of a build (mid part tar, after markers, mid shard of a commit, between a commit's fragment
and its marker, after the manifest, at timed moments), rerun until it finishes: shards, manifest and failures.jsonl
must be byte-identical to an uninterrupted build."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.pipelines._build_script import stages, writer_cfg
from tests.pipelines._steps import write_spec
from uvc_data.writer import ExecutorConfig, discover_inputs, run_build

REPO = Path(__file__).resolve().parents[2]
DELAY = 0.05


def _inputs(folder: Path) -> str:
    folder.mkdir()
    for i in range(6):
        write_spec(folder / f"clip{i}.json", clips=4, frames=4, seed=i, brightness=0.3 if i == 4 else 1.0)
    write_spec(folder / "broken.json", clips=3, fail_at=1)
    write_spec(folder / "crash.json", clips=2, prompt="explode")
    return str(folder / "*.json")


def _run(pattern: str, out: Path, *fault: str, kill_after: float | None = None) -> int:
    cmd = [sys.executable, "-m", "tests.pipelines._build_script", pattern, str(out), "--delay", str(DELAY), *fault]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"build script failed ({proc.returncode}): {err.decode()[-3000:]}")
    return proc.returncode


def _outputs(out: Path) -> dict[str, bytes]:
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "shards").iterdir())}
    for name in ("manifest.parquet", "failures.jsonl"):
        files[name] = (out / name).read_bytes()
    return files


def test_kill_at_any_point_then_rerun_is_byte_identical(tmp_path):
    pattern = _inputs(tmp_path / "in")
    clean = tmp_path / "clean"
    summary = run_build(discover_inputs([pattern]), stages(DELAY), clean, ExecutorConfig(quiet=True), writer_cfg(),
                        "kill-test")
    assert summary.done == 6 and summary.failed == 2 and summary.rejected == 3 and summary.samples == 15
    expected = _outputs(clean)
    assert len([k for k in expected if k.startswith("shards/")]) == 10  # 5 inputs x 3 kept samples, 2 per shard

    out = tmp_path / "killed"
    kill = -signal.SIGKILL
    ids = {v.source_id.split("-")[0]: v.source_id for v in discover_inputs([pattern])}
    staging, inputs, shards = out / "_staging", out / "inputs", out / "shards"
    assert _run(pattern, out, "--kill-in-part", "3") == kill  # half-written part tar of an input
    assert list(staging.rglob("*.tar.tmp")) and not list(staging.rglob("done.json"))
    # broken's failure came before the first kill; now build.json, clip0 staged, clip0's fragment: no marker yet
    assert _run(pattern, out, "--kill-after-commit", "3") == kill
    assert sorted(p.name for p in inputs.iterdir()) == [f"{ids['broken']}.failed.json", f"{ids['clip0']}.parquet"]
    assert (staging / ids["clip0"] / "done.json").exists()  # staged, not committed
    assert _run(pattern, out, "--kill-in-part", "2") == kill  # the rerun commits clip0 first, then dies staging
    assert (inputs / f"{ids['clip0']}.done.json").exists() and not (staging / ids["clip0"]).exists()
    assert _run(pattern, out, "--kill-in-shard", "4") == kill  # clip1 committed (2 shards), clip2's 2nd half-written
    assert (shards / f"{ids['clip2']}-0001.tar.tmp").exists() and (shards / f"{ids['clip2']}-0000.tar").exists()
    assert not (inputs / f"{ids['clip2']}.done.json").exists()
    assert _run(pattern, out, "--kill-after-commit", "2") == kill  # clip2's fragment written, not its marker
    assert (inputs / f"{ids['clip2']}.parquet").exists() and not (inputs / f"{ids['clip2']}.done.json").exists()
    assert _run(pattern, out, "--kill-after-file", "manifest.parquet") == kill
    assert (out / "manifest.parquet").exists() and not (out / "stats.json").exists()
    assert _run(pattern, out) == 0
    assert _outputs(out) == expected
    t0 = time.perf_counter()
    timed = tmp_path / "timed"
    for moment in (0.8, 1.4):  # wall-clock kills of a fresh build, wherever it happens to be
        _run(pattern, timed, kill_after=moment)
    assert _run(pattern, timed) == 0
    assert time.perf_counter() - t0 < 60
    for done in (out, timed):
        assert _outputs(done) == expected
        assert not list(done.rglob("*.tmp")) and not any((done / "_staging").iterdir())
        assert (done / "stats.json").exists() and (done / "failures.jsonl").read_text().count("\n") == 2
