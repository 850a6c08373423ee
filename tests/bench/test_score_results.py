"""Scoring and the results schema: decoded once, per case / task / overall, backends recorded, validator, VBench export."""
import copy
import json

import numpy as np
import pytest

from tests.fixtures.bench_suite import build_tiny_suite
from uvc_data.errors import BadInputError
from uvc_bench.generate import GenerateConfig, generate_suite
from uvc_bench.metrics.api import MetricsConfig, Scorer
from uvc_bench.normalize import load_vbench_results, normalize_report, normalized_average
from uvc_bench.results import SCHEMA_VERSION, load_results
from uvc_bench.results_validate import validate_results
from uvc_bench.score import ScoreConfig, score_outputs

OFFLINE = MetricsConfig(backend={d: "offline" for d in ("motion_smoothness", "dynamic_degree")},
                        dimensions=["motion_smoothness", "dynamic_degree"])


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    root = tmp_path_factory.mktemp("score")
    suite = build_tiny_suite(root, n_samples=2, per_task=2, tasks=["depth", "outpainting", "r2v", "gray"])
    out = root / "out"
    generate_suite(GenerateConfig(suite=str(suite), out=str(out), progress=False), log=lambda m: None)
    (out / "gray" / "clip000.mp4").unlink()  # one video never generated
    results = score_outputs(ScoreConfig(suite=str(suite), outputs=str(out), metrics=OFFLINE,
                                        vbench_export=str(root / "vbench")), log=lambda m: None)
    return root, out, results


class CountingScorer(Scorer):
    calls = 0

    def score_video(self, frames, fps):
        CountingScorer.calls += 1
        return super().score_video(frames, fps)


def test_results_per_case_task_overall(scored):
    root, out, r = scored
    assert r.schema_version == SCHEMA_VERSION and r.model.name == "baseline"
    assert r.metrics.backends == {"motion_smoothness": "dis_interp_offline", "dynamic_degree": "dis_flow_offline"}
    assert set(r.tasks) == {"depth", "outpainting", "r2v", "gray"} and len(r.cases) == 8
    assert r.tasks["gray"].num_cases == 2 and r.tasks["gray"].num_scored == 1
    missing = next(c for c in r.cases if c.case_id == "gray/clip000")
    assert missing.status == "missing" and "no video" in missing.error and not missing.dimensions
    depth = r.tasks["depth"]
    ms = [c.dimensions["motion_smoothness"].raw for c in r.cases if c.subtask == "depth"]
    assert depth.dimensions["motion_smoothness"].raw == pytest.approx(np.mean(ms))
    assert depth.na == pytest.approx(normalized_average({d: v.raw for d, v in depth.dimensions.items()}, "vbench"))
    assert r.overall.na == pytest.approx(np.mean([t.na for t in r.tasks.values()]))
    assert r.overall.num_scored == 7
    # condition fidelity next to NA: outpainting keeps its centre exactly (the baseline copies the input)
    assert r.tasks["outpainting"].fidelity["kept_psnr"] > 30
    assert "gray_psnr" in r.tasks["gray"].fidelity
    assert r.timings.timed_videos == 7 and r.timings.seconds_per_video >= 0
    on_disk = json.loads((out / "results.json").read_text())
    validate_results(on_disk)
    assert load_results(str(out / "results.json")).tasks["depth"].na == pytest.approx(depth.na)


def test_each_video_is_decoded_and_scored_once(scored, monkeypatch):
    root, out, _ = scored
    import uvc_bench.score as score_mod

    decoded = []
    real = score_mod.decode_video
    monkeypatch.setattr(score_mod, "decode_video", lambda p: decoded.append(p) or real(p))
    CountingScorer.calls = 0
    score_outputs(ScoreConfig(suite=str(root / "suite"), outputs=str(out), results=str(root / "r2.json"),
                              metrics=OFFLINE, cache=None), scorer=CountingScorer(OFFLINE), log=lambda m: None)
    assert len(decoded) == 7 and len(set(decoded)) == 7 and CountingScorer.calls == 7


def test_a_killed_score_continues_from_its_cache(scored, tmp_path, monkeypatch):
    """The per-case cache (video hash, dimension, backend): a score that dies half-way resumes, scoring only the rest,
    and gives the same numbers as an uninterrupted run."""
    import uvc_bench.score as score_mod

    root, out, full = scored
    cache = tmp_path / "cache"
    real = score_mod.decode_video
    calls = []

    def dying(p):
        calls.append(p)
        if len(calls) == 4:
            raise KeyboardInterrupt  # killed while scoring the 4th video
        return real(p)

    monkeypatch.setattr(score_mod, "decode_video", dying)
    cfg = ScoreConfig(suite=str(root / "suite"), outputs=str(out), results=str(tmp_path / "r.json"), metrics=OFFLINE,
                      cache=str(cache))
    with pytest.raises(KeyboardInterrupt):
        score_outputs(cfg, log=lambda m: None)
    assert len(list(cache.rglob("*.json"))) == 3
    calls.clear()
    monkeypatch.setattr(score_mod, "decode_video", lambda p: calls.append(p) or real(p))
    again = score_outputs(cfg, log=lambda m: None)
    assert len(calls) == 4  # 7 videos, 3 from the cache
    assert again.overall.na == pytest.approx(full.overall.na, abs=1e-12)
    assert [c.dimensions for c in again.cases] == [c.dimensions for c in full.cases]
    assert [c.fidelity for c in again.cases] == [c.fidelity for c in full.cases]


@pytest.mark.ray
def test_ray_actors_score_the_same_numbers(scored, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    root, out, full = scored
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        r = score_outputs(ScoreConfig(suite=str(root / "suite"), outputs=str(out), results=str(tmp_path / "r.json"),
                                      metrics=OFFLINE, cache=None, workers=2), log=lambda m: None)
    finally:
        ray.shutdown()
    assert r.overall.na == full.overall.na and r.metrics.backends == full.metrics.backends
    assert [c.dimensions for c in r.cases] == [c.dimensions for c in full.cases]
    assert [c.status for c in r.cases] == [c.status for c in full.cases]


def test_vbench_export_reads_back_to_the_same_na(scored):
    root, _, r = scored
    vb = load_vbench_results(root / "vbench" / "depth_eval_results.json")
    assert normalize_report(vb, "vbench")["normalized_average"] == pytest.approx(r.tasks["depth"].na)
    raw = json.loads((root / "vbench" / "all_eval_results.json").read_text())
    assert raw["dynamic_degree"][1][0]["video_results"] in (True, False)
    assert {e["video_path"] for e in raw["motion_smoothness"][1]} >= {"depth/clip000.mp4", "r2v/clip001.mp4"}


def _tamper(data, fn):
    d = copy.deepcopy(data)
    fn(d)
    return d


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(schema_version="uvcbench-results/0"), "not supported"),
    (lambda d: d["model"].pop("steps"), "results.model.steps: missing"),
    (lambda d: d["model"].update(extra=1), "results.model.extra: unknown field"),
    (lambda d: d["tasks"]["depth"].update(na="high"), "results.tasks.depth.na: expected a number"),
    (lambda d: d["tasks"]["depth"].update(na=99.0), "does not match its dimensions"),
    (lambda d: d["cases"][0]["dimensions"]["motion_smoothness"].update(backend="amt_s"), "cannot be mixed"),
    (lambda d: d["tasks"]["depth"]["dimensions"]["dynamic_degree"].update(normalized=0.3), "does not match raw"),
    (lambda d: d["cases"][0].update(status="great"), "is not one of"),
    (lambda d: d["overall"].update(na=1.0), "mean of the task NAs"),
    (lambda d: d["metrics"].update(na_convention="mine"), "na_convention"),
    (lambda d: d["cases"][0]["video"].update(sha256="abc"), "is not a SHA-256"),
    (lambda d: d["provenance"]["weights"].update({"musiq/x.pth": "zz"}), "provenance.weights"),
    (lambda d: d["provenance"].pop("git_commit"), "results.provenance.git_commit: missing"),
])
def test_validator_rejects_invalid_files(scored, edit, message):
    data = scored[2].to_dict()
    validate_results(data)
    with pytest.raises(BadInputError, match=message):
        validate_results(_tamper(data, edit))


def test_validator_rejects_non_objects():
    with pytest.raises(BadInputError, match="JSON object"):
        validate_results([1, 2])


def test_na_entry_says_what_it_covers_and_provenance_is_recorded(scored):
    root, out, r = scored
    assert r.metrics.na_convention == "vbench"  # VDOT's / VBench's ÷ Σw by default
    assert r.overall.na_num_dimensions == 2 and r.overall.na_backends == {
        "motion_smoothness": "dis_interp_offline", "dynamic_degree": "dis_flow_offline"}
    assert r.tasks["depth"].na_backends == r.overall.na_backends
    p = r.provenance
    assert p.toolkit_version and p.git_commit and p.command
    assert {"torch", "transformers", "diffusers", "av", "ffmpeg", "numpy", "python"} <= set(p.versions)
    assert p.device == "cpu" and p.dtype == "float32" and p.batch_size == 16 and p.weights == {}  # offline: none
    from uvc_bench.video_io import sha256_file

    case = next(c for c in r.cases if c.case_id == "depth/clip000")
    assert case.video.sha256 == sha256_file(out / "depth" / "clip000.mp4")
    assert (case.video.num_frames, case.video.height, case.video.width, case.video.fps) == (9, 32, 32, 16.0)
    assert r.generation.case_reading == "vace_keep_last"


def test_schema_1_files_still_read_with_their_meaning(scored):
    from uvc_bench.results import SCHEMA_V1, results_from_dict

    v1 = scored[2].to_dict()
    v1["schema_version"] = SCHEMA_V1
    for k in ("provenance", "upgraded_from"):
        v1.pop(k)
    v1["model"].pop("preset")
    for k in ("case_reading", "default_height", "default_width", "default_frames"):
        v1["generation"].pop(k)
    for c in v1["cases"]:
        c.pop("video")
    for node in [*v1["tasks"].values(), v1["overall"]]:
        node.pop("na_backends"), node.pop("na_num_dimensions")
    validate_results(v1)
    old = results_from_dict(v1)
    assert old.upgraded_from == SCHEMA_V1 and old.generation.case_reading == "first_frames_resized"
    assert old.overall.na == scored[2].overall.na and old.metrics.na_convention == "vbench"
    assert old.overall.na_num_dimensions == 2 and old.provenance.git_commit == "unknown"


def test_validator_checks_the_na_cover(scored):
    data = scored[2].to_dict()
    with pytest.raises(BadInputError, match="na_num_dimensions"):
        validate_results(_tamper(data, lambda d: d["overall"].update(na_num_dimensions=6)))
    with pytest.raises(BadInputError, match="na_backends"):
        validate_results(_tamper(data, lambda d: d["tasks"]["depth"]["na_backends"].update(motion_smoothness="amt_s")))


def test_a_video_that_does_not_match_its_case_fails_that_case(scored, tmp_path):
    import shutil

    from uvc_data.video.codec import decode_video, encode_video

    root, out, _ = scored
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    frames = decode_video(copy / "depth" / "clip000.mp4")[0]
    (copy / "depth" / "clip000.mp4").write_bytes(encode_video(frames, 24.0))  # its own fps: 24
    (copy / "depth" / "clip001.mp4").write_bytes(encode_video(frames[:5], 16.0))
    r = score_outputs(ScoreConfig(suite=str(root / "suite"), outputs=str(copy), metrics=OFFLINE, tasks=["depth"]),
                      log=lambda m: None)
    by_id = {c.case_id: c for c in r.cases}
    assert by_id["depth/clip000"].status == "failed" and "24 fps" in by_id["depth/clip000"].error
    assert "5 frames, the case has 9" in by_id["depth/clip001"].error
    lenient = score_outputs(ScoreConfig(suite=str(root / "suite"), outputs=str(copy), metrics=OFFLINE,
                                        tasks=["depth"], check_outputs=False, results=str(tmp_path / "r.json")),
                            log=lambda m: None)
    c0 = next(c for c in lenient.cases if c.case_id == "depth/clip000")
    assert c0.status == "ok" and c0.video.fps == 24.0 and "does not match" in c0.fidelity_skipped["all"]
