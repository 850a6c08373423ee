"""Generation: official layout, atomic writes, resume, failure isolation, settings guard, Ray actors."""
import json
from dataclasses import dataclass

import numpy as np
import pytest

from tests.fixtures.bench_suite import build_tiny_suite
from uvc_data.errors import ConfigError
from uvc_data.video.codec import decode_video
from uvc_bench.generate import LOG_FILE, RUN_FILE, GenerateConfig, generate_suite, read_log
from uvc_bench.models.baseline import BaselineModel, baseline_video
from uvc_bench.models.base import GenResult, VideoModel


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory):
    return build_tiny_suite(tmp_path_factory.mktemp("gen"), n_samples=2, per_task=2,
                            tasks=["depth", "r2v", "outpainting", "firstframe+gray"])


@dataclass
class _FlakyConfig:
    batch_size: int = 3


class FlakyModel(VideoModel):
    """Baseline output, except: returns an error for case `fail_on` and raises for any batch holding `raise_on`
    (transient faults: not part of its settings, so a rerun resumes the same run)."""

    name = "flaky"
    Config = _FlakyConfig

    def __init__(self, fail_on="", raise_on=""):
        super().__init__(_FlakyConfig())
        self.fail_on, self.raise_on = fail_on, raise_on

    def generate(self, requests):
        if any(r.case_id == self.raise_on for r in requests):
            raise RuntimeError("CUDA out of memory (simulated)")
        return [GenResult(r.case_id, error="refused") if r.case_id == self.fail_on
                else GenResult(r.case_id, baseline_video(r), seconds=0.01) for r in requests]


def _cfg(suite_dir, out, **kw):
    return GenerateConfig(suite=str(suite_dir), out=str(out), progress=False, **kw)


def test_generate_layout_log_and_resume(suite_dir, tmp_path):
    out = tmp_path / "out"
    s = generate_suite(_cfg(suite_dir, out), log=lambda m: None)
    assert (s.total, s.ok, s.skipped, s.failed) == (8, 8, 0, {})
    videos = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.mp4"))
    assert len(videos) == 8 and sum(v.startswith("firstframe+gray/") for v in videos) == 2
    assert not list(out.rglob("*.tmp"))
    v, fps = decode_video(next(out.glob("depth/*.mp4")))
    assert v.shape == (9, 32, 32, 3) and fps == 16.0
    run = json.loads((out / RUN_FILE).read_text())
    assert run["model"]["name"] == "baseline" and run["suite"]["hash"].startswith("sha256:")
    # 0 = each case read as the official inference reads it; the default shape is for cases without a source video
    assert run["generation"] == {"seed": 2025, "height": 0, "width": 0, "num_frames": 0, "fps": 16.0, "crf": 12,
                                 "case_reading": "vace_keep_last", "default_height": 32, "default_width": 32,
                                 "default_frames": 9}
    assert all(r["status"] == "ok" for r in read_log(out).values())
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")}
    s2 = generate_suite(_cfg(suite_dir, out), log=lambda m: None)
    assert (s2.ok, s2.skipped) == (0, 8)
    assert mtimes == {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")}  # existing outputs kept untouched
    with pytest.raises(ConfigError, match="another run"):
        generate_suite(_cfg(suite_dir, out, seed=1), log=lambda m: None)
    with pytest.raises(ConfigError, match="another run"):
        generate_suite(_cfg(suite_dir, out, model_settings={"batch_size": 1}), log=lambda m: None)


def test_failures_are_recorded_and_the_run_goes_on(suite_dir, tmp_path):
    out = tmp_path / "out"
    model = FlakyModel(fail_on="r2v/clip000", raise_on="depth/clip001")
    s = generate_suite(_cfg(suite_dir, out), model_factory=lambda: model, log=lambda m: None)
    assert set(s.failed) == {"r2v/clip000", "depth/clip001"}
    assert s.failed["r2v/clip000"] == "refused" and "out of memory" in s.failed["depth/clip001"]
    assert s.ok == 6 and len(list(out.rglob("*.mp4"))) == 6  # the rest of each batch was still generated
    log = read_log(out)
    assert log["depth/clip001"]["status"] == "failed" and log["depth/clip000"]["status"] == "ok"
    # rerun with a model that works: only the failed cases are generated
    s2 = generate_suite(_cfg(suite_dir, out, overwrite=False), model_factory=FlakyModel,
                        log=lambda m: None)
    assert (s2.ok, s2.skipped, s2.failed) == (2, 6, {})
    assert read_log(out)["depth/clip001"]["status"] == "ok"
    assert len((out / LOG_FILE).read_text().splitlines()) == 8 + 2


def test_a_bad_case_input_is_recorded(suite_dir, tmp_path):
    import shutil

    broken = tmp_path / "suite"
    shutil.copytree(suite_dir, broken)
    victim = next(broken.glob("cases/depth/*/src_video.mp4"))
    victim.write_bytes(b"garbage")
    s = generate_suite(_cfg(broken, tmp_path / "out", tasks=["depth"]), log=lambda m: None)
    assert len(s.failed) == 1 and "input:" in next(iter(s.failed.values())) and s.ok == 1


def test_folder_videos_pass_through_byte_for_byte_and_mismatches_fail(suite_dir, tmp_path):
    made = tmp_path / "made"
    generate_suite(_cfg(suite_dir, made, tasks=["depth"]), log=lambda m: None)
    victim = next(made.glob("depth/*.mp4"))
    other = sorted(set(made.glob("depth/*.mp4")) - {victim})[0]
    from uvc_data.video.codec import encode_video

    victim.write_bytes(encode_video(decode_video(victim)[0][:5], 16.0))  # 5 frames for a 9-frame case
    out = tmp_path / "out"
    s = generate_suite(_cfg(suite_dir, out, tasks=["depth"], model="folder", model_settings={"root": str(made)}),
                       log=lambda m: None)
    assert s.ok == 1 and "5 frames, the case has 9" in s.failed[f"depth/{victim.stem}"]
    assert (out / "depth" / other.name).read_bytes() == other.read_bytes()  # no cut, no re-encode


def test_config_checks(suite_dir, tmp_path):
    with pytest.raises(ConfigError, match="height"):
        generate_suite(_cfg(suite_dir, tmp_path, height=32), log=lambda m: None)
    with pytest.raises(ConfigError, match="even"):
        generate_suite(_cfg(suite_dir, tmp_path, height=33, width=32), log=lambda m: None)


@pytest.mark.ray
def test_ray_actors_generate_the_same_videos(suite_dir, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    local = tmp_path / "local"
    generate_suite(_cfg(suite_dir, local, tasks=["depth", "r2v"]), log=lambda m: None)
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        s = generate_suite(_cfg(suite_dir, tmp_path / "ray", tasks=["depth", "r2v"], workers=2,
                                model_settings={"batch_size": 1}), log=lambda m: None)
    finally:
        ray.shutdown()
    assert (s.ok, s.failed) == (4, {})
    for p in local.rglob("*.mp4"):
        q = tmp_path / "ray" / p.relative_to(local)
        a, b = decode_video(p)[0].astype(int), decode_video(q)[0].astype(int)
        assert a.shape == b.shape and np.abs(a - b).mean() < 0.5  # same video (H.264 rounding may differ by a step)
    assert json.loads((tmp_path / "ray" / RUN_FILE).read_text())["model"]["name"] == "baseline"
    assert BaselineModel.name == "baseline"
