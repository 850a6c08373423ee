"""Bench models: registry, baseline, folder, command (safe quoting, failures)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from uvc_data.errors import ConfigError, UnknownNameError
from uvc_data.vcu import VCU, to_uint8, to_unit
from uvc_data.video.codec import decode_video, encode_video
from uvc_bench.models import CaseFiles, GenRequest, build_model, model_names
from uvc_bench.models.base import check_file


def _write(path, video, fps):
    path.write_bytes(encode_video(video, fps))
    return path

FAKE = str(Path(__file__).resolve().parents[1] / "fixtures" / "fake_generator.py")
T, H, W = 5, 16, 16


def _req(task="depth", refs=0, video=True, sample="s1", prompt="a cat", files=CaseFiles()):
    rng = np.random.default_rng(0)
    frames = to_unit(rng.integers(0, 255, (T, H, W, 3), dtype=np.uint8)) if video else np.zeros((T, H, W, 3),
                                                                                                 np.float32)
    masks = np.ones((T, H, W), np.float32)
    ref_list = [to_unit(np.full((H, W, 3), 40 * (i + 1), np.uint8)) for i in range(refs)]
    return GenRequest(task, sample, task, VCU(prompt, frames, masks, ref_list, task), 7, (H, W), T, 16.0, files)


def test_registry_did_you_mean_and_typed_settings():
    assert {"baseline", "diffusers", "vdot", "folder", "command"} <= set(model_names())
    with pytest.raises(UnknownNameError, match="Did you mean 'baseline'"):
        build_model("baselin")
    with pytest.raises(ConfigError, match="batch_sise"):
        build_model("baseline", {"batch_sise": 2})
    with pytest.raises(ConfigError, match="batch_size"):
        build_model("baseline", overrides=["batch_size=two"])
    assert build_model("baseline", overrides=["batch_size=3"]).batch_size == 3


def test_baseline_returns_the_condition():
    m = build_model("baseline")
    v2v, r2v, t2v = _req(), _req("r2v", refs=2, video=False), _req("t2v", video=False)
    out = m.generate([v2v, r2v, t2v])
    assert [r.case_id for r in out] == ["depth/s1", "r2v/s1", "t2v/s1"] and all(r.ok for r in out)
    np.testing.assert_array_equal(out[0].video, to_uint8(v2v.vcu.frames))
    assert (out[1].video == 40).all() and out[1].video.shape == (T, H, W, 3)  # first reference, held still
    assert (out[2].video == 128).all()  # T2V: mid-gray
    assert m.settings()["steps"] is None


def test_folder_model(tmp_path):
    (tmp_path / "depth").mkdir()
    video = np.full((8, H, W, 3), 90, np.uint8)
    (tmp_path / "depth" / "s1.mp4").write_bytes(encode_video(video, 16))
    (tmp_path / "depth" / "bad.mp4").write_bytes(b"not a video")
    (tmp_path / "depth" / "s3.mp4").write_bytes(encode_video(video[:T], 16))
    m = build_model("folder", {"root": str(tmp_path)})
    ok, missing, bad, exact = m.generate([_req(), _req(sample="s2"), _req(sample="bad"), _req(sample="s3")])
    # files pass through untouched (never decoded, cut or re-encoded here); not timed
    assert ok.ok and ok.video is None and ok.path == tmp_path / "depth" / "s1.mp4" and ok.seconds is None
    assert "no video at" in missing.error and "s2.mp4" in missing.error
    # the harness checks each file against its case: 8 frames for a 5-frame case is that case's error
    assert "8 frames, the case has 5" in check_file(ok.path, _req())
    assert "cannot read video" in check_file(bad.path, _req(sample="bad"))
    assert check_file(exact.path, _req(sample="s3")) is None
    assert "24 fps, the run writes 16" in check_file(_write(tmp_path / "f.mp4", video[:T], 24), _req())
    with pytest.raises(ConfigError, match="root"):
        build_model("folder")


def test_command_template_is_checked():
    with pytest.raises(ConfigError, match=r"\{out\}"):
        build_model("command", {"template": "gen --prompt {prompt}"})
    with pytest.raises(ConfigError, match="unknown placeholder"):
        build_model("command", {"template": "gen {promt} {out}"})
    with pytest.raises(ConfigError, match="quotes"):
        build_model("command", {"template": "gen 'unclosed {out}"})


def test_command_quotes_values_and_expands_refs(tmp_path):
    log = tmp_path / "argv.jsonl"
    tmpl = f"{sys.executable} {FAKE} --prompt {{prompt}} --out {{out}} --sample {{sample_id}} --src {{src_video}} " \
           f"--refs {{ref_images}} --size {{height}}x{{width}}"
    m = build_model("command", {"template": tmpl})
    nasty = "it's a \"cat\"; rm -rf / $(touch pwned) `x`"
    import os

    os.environ["UVC_FAKE_ARGS"] = str(log)
    try:
        (res,) = m.generate([_req("reference+depth", refs=2, prompt=nasty)])
    finally:
        del os.environ["UVC_FAKE_ARGS"]
    assert res.ok, res.error
    argv = json.loads(log.read_text().splitlines()[0])
    assert argv[argv.index("--prompt") + 1] == nasty  # one literal argument, no shell
    refs = argv[argv.index("--refs") + 1 : argv.index("--size")]
    assert len(refs) == 2 and all(r.endswith(".png") for r in refs)  # written from the VCU, one argument each
    assert argv[-1] == f"{H}x{W}"
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    # the source video it received was the VCU's frames
    assert res.video.shape == (T, H, W, 3)


def test_command_failures_are_results_not_exceptions(tmp_path, monkeypatch):
    tmpl = f"{sys.executable} {FAKE} --out {{out}} --sample {{sample_id}} --src {{src_video}}"
    m = build_model("command", {"template": tmpl})
    monkeypatch.setenv("UVC_FAKE_FAIL", "s2")
    ok, failed = m.generate([_req(sample="s1"), _req(sample="s2")])
    assert ok.ok and "exited with 3" in failed.error and "boom on s2" in failed.error
    m2 = build_model("command", {"template": "true {out}"})
    (r,) = m2.generate([_req()])
    assert "wrote nothing" in r.error
    m3 = build_model("command", {"template": "/no/such/program {out}"})
    (r,) = m3.generate([_req()])
    assert "cannot run" in r.error


def test_command_uses_the_suite_files_when_given(tmp_path):
    src = tmp_path / "src.mp4"
    video = np.full((T, H, W, 3), 200, np.uint8)
    src.write_bytes(encode_video(video, 16))
    tmpl = f"{sys.executable} {FAKE} --out {{out}} --sample {{sample_id}} --src {{src_video}}"
    (res,) = build_model("command", {"template": tmpl}).generate([_req(files=CaseFiles(src_video=src))])
    assert np.abs(res.video.astype(int) - 200).max() <= 2
    np.testing.assert_array_equal(res.video, decode_video(src)[0])
