"""Suites: the official JSON-lines index, routing, path safety, malformed lines, missing files, case → VCU, hash."""
import json
import os

import numpy as np
import pytest

from tests.fixtures.bench_suite import build_tiny_suite
from tests.fixtures.synthetic import synthetic_sample
from uvc_data.errors import BadInputError, UnknownNameError
from uvc_data.vcu import build_vcu, to_uint8
from uvc_data.video.codec import encode_png, encode_video
from uvc_bench.case_reading import ReadingConfig
from uvc_bench.case_vcu import case_ground_truth, case_shape, case_vcu
from uvc_bench.suite import load_suite


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory):
    return build_tiny_suite(tmp_path_factory.mktemp("suite"), n_samples=3, per_task=1)


def _write_index(root, lines, name="uvcbench_single.txt"):
    (root / "indices").mkdir(parents=True, exist_ok=True)
    (root / "indices" / name).write_text("\n".join(lines) + "\n")


def _official_case(root, subtask="depth", sample_id="0001", video="videos/a.mp4", mask=None, refs=()):
    return json.dumps({"subtask": subtask, "sample_id": sample_id, "en_prompt": "a cat", "src_video": video,
                       "src_mask": mask, "src_ref_images": list(refs)})


def test_built_suite_has_all_18_tasks_with_official_routing(suite_dir):
    suite = load_suite(suite_dir)
    assert len(suite.cases) == 18 and not suite.problems
    routes = {c.subtask: c.route for c in suite.cases}
    assert routes["r2v"] == "ref_only" and routes["depth"] == "video_only"
    assert routes["reference+pose"] == "video_and_ref" and routes["firstframe+gray"] == "video_and_mask"
    assert routes["outpainting"] == "video_and_mask" and routes["extension"] == "video_and_mask"
    single = (suite_dir / "indices" / "uvcbench_single.txt").read_text().splitlines()
    composite = (suite_dir / "indices" / "uvcbench_composite.txt").read_text().splitlines()
    assert len(single) == 8 and len(composite) == 10
    rec = json.loads(composite[0])
    assert set(rec) == {"subtask", "sample_id", "en_prompt", "src_video", "src_mask", "src_ref_images", "gt_video"}
    assert suite.working_shape() == ((32, 32), 9, 16.0)


@pytest.mark.parametrize("task", ["depth", "outpainting", "extension", "r2v", "reference+scribble", "firstframe+flow"])
def test_case_vcu_matches_build_vcu(suite_dir, task):
    """Reading a case back gives the VCU build_vcu made from the sample (masks exact, frames up to H.264)."""
    suite = load_suite(suite_dir)
    case = next(c for c in suite.cases if c.subtask == task)
    i = int(case.sample_id[-3:])
    sample = synthetic_sample(case.sample_id, seed=i)
    want = build_vcu(task, sample.prompt, sample.frames, sample.conditions)
    got = case_vcu(case, default=(32, 32, 9))  # the official reading of a 32×32, 9-frame source is itself
    assert got.prompt == want.prompt and got.task == want.task
    np.testing.assert_array_equal(got.masks, want.masks)
    assert len(got.refs) == len(want.refs)
    err = np.abs(to_uint8(got.frames).astype(int) - to_uint8(want.frames).astype(int)).mean()
    assert err < 8, f"{task}: mean abs error {err}"
    for g, w in zip(got.refs, want.refs):
        assert np.abs(g - w).max() < 1e-6  # PNG is lossless
    gt = case_ground_truth(case, case_shape(case, ReadingConfig(), (32, 32, 9)))
    assert gt is not None and gt.shape == (9, 32, 32, 3)


def test_case_vcu_resizes_and_rejects_too_few_frames(suite_dir):
    suite = load_suite(suite_dir)
    case = next(c for c in suite.cases if c.subtask == "outpainting")
    v = case_vcu(case, ReadingConfig(height=16, width=24, num_frames=5))
    assert v.frames.shape == (5, 16, 24, 3) and v.masks.min() >= 0.0 and v.masks.max() <= 1.0
    with pytest.raises(BadInputError, match="has 9 frames, the run asks for 81"):
        case_vcu(case, ReadingConfig(num_frames=81))
    r2v = next(c for c in suite.cases if c.subtask == "r2v")
    v = case_vcu(r2v, default=(32, 48, 81))  # no video: the run's default shape; reference fitted on white
    assert v.frames.shape == (81, 32, 48, 3) and not v.frames.any() and v.refs[0].shape == (32, 48, 3)
    assert v.refs[0][:, 0].min() == 1.0  # white canvas on the widened sides


def test_official_spellings_resolve_through_aliases(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "a.mp4").write_bytes(encode_video(np.zeros((3, 8, 8, 3), np.uint8), 16))
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "r.png").write_bytes(encode_png(np.zeros((8, 8, 3), np.uint8)))
    _write_index(tmp_path, [
        _official_case(tmp_path, "Grey", "1"),
        _official_case(tmp_path, "R2v", "2", video=None, refs=["refs/r.png"]),
        _official_case(tmp_path, "firstframe", "3", mask="videos/a.mp4"),
        _official_case(tmp_path, "firstframe+canny", "4", mask="videos/a.mp4"),  # unknown compound name
    ])
    cases = {c.sample_id: c for c in load_suite(tmp_path).cases}
    assert (cases["1"].task, cases["1"].route) == ("gray", "video_only")
    assert (cases["2"].task, cases["2"].route) == ("r2v", "ref_only")
    assert (cases["3"].task, cases["3"].route) == ("extension", "video_and_mask")
    assert (cases["4"].task, cases["4"].route, cases["4"].known_task) == ("firstframe+canny", "video_and_mask", False)
    assert cases["1"].case_id == "Grey/1"  # outputs keep the official spelling
    suite = load_suite(tmp_path)
    assert [c.sample_id for c in suite.select(["gray"])] == ["1"]
    with pytest.raises(UnknownNameError, match="Did you mean"):
        suite.select(["exension"])


@pytest.mark.parametrize("bad", ["../outside.mp4", "/etc/passwd", "videos/../../outside.mp4"])
def test_index_paths_must_stay_inside(tmp_path, bad):
    _write_index(tmp_path, [_official_case(tmp_path, video=bad)])
    with pytest.raises(BadInputError, match=r"indices/uvcbench_single.txt:1 src_video"):
        load_suite(tmp_path)


def test_symlink_escaping_the_suite_is_rejected(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.mp4").write_bytes(b"x")
    root = tmp_path / "suite"
    (root / "videos").mkdir(parents=True)
    os.symlink(outside, root / "videos" / "link")
    _write_index(root, [_official_case(root, video="videos/link/a.mp4")])
    with pytest.raises(BadInputError, match="outside the suite folder"):
        load_suite(root)


def test_malformed_lines_are_reported_with_file_and_line(tmp_path):
    _write_index(tmp_path, [
        _official_case(tmp_path, sample_id="ok"),
        '{"subtask": "depth", "sample_id": "x"',  # cut JSON
        json.dumps({"subtask": "depth", "en_prompt": "p"}),  # no sample_id
        json.dumps(["not", "an", "object"]),
        json.dumps({"subtask": "depth", "sample_id": "a/b", "en_prompt": "p"}),
    ])
    with pytest.raises(BadInputError) as info:
        load_suite(tmp_path)
    msg = str(info.value)
    assert "4 bad index line(s)" in msg
    for line in (2, 3, 4, 5):
        assert f"indices/uvcbench_single.txt:{line}" in msg
    assert "sample_id" in msg and "not valid JSON" in msg


def test_missing_files_are_reported_per_case(tmp_path):
    _write_index(tmp_path, [_official_case(tmp_path, sample_id="a", video="videos/none.mp4"),
                            _official_case(tmp_path, subtask="reference+depth", sample_id="b", refs=[])])
    suite = load_suite(tmp_path)
    probs = suite.problems
    assert "missing file" in probs["depth/a"][0] and "videos/none.mp4" in probs["depth/a"][0]
    assert any("needs src_ref_images" in p for p in probs["reference+depth/b"])
    with pytest.raises(BadInputError, match="missing file"):
        case_vcu(suite.cases[0])


def test_no_index_and_duplicates(tmp_path):
    with pytest.raises(BadInputError, match="indices"):
        load_suite(tmp_path)
    _write_index(tmp_path, [_official_case(tmp_path), _official_case(tmp_path)])
    with pytest.raises(BadInputError, match="already defined at indices/uvcbench_single.txt:1"):
        load_suite(tmp_path)


def test_suite_hash_follows_content(tmp_path):
    root = build_tiny_suite(tmp_path, n_samples=2, per_task=1, tasks=["depth", "r2v"])
    h1 = load_suite(root).content_hash()
    assert h1 == load_suite(root).content_hash() and h1.startswith("sha256:")
    ref = next(root.glob("cases/r2v/*/ref0.png"))
    ref.write_bytes(ref.read_bytes() + b"\0")
    assert load_suite(root).content_hash() != h1
