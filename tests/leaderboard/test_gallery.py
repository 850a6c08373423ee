"""The gallery: thumbnails from real encoded videos, the same cases for every run, missing files as tiles that say
so, escaping of every caption and path, determinism."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from leaderboard.gallery import GalleryConfig, collect_gallery, pick_cases
from leaderboard.inputs import load
from leaderboard.labels import entry_labels
from leaderboard.media import ThumbConfig, encode_webp, sample_indices
from leaderboard.site import SiteConfig, build
from leaderboard.tables import task_names
from tests.leaderboard.conftest import HOSTILE
from tests.leaderboard.factory import make_results, write_results
from uvc_data.errors import ConfigError
from uvc_data.video.codec import encode_video


def _clip(value: int, frames: int = 9, h: int = 32, w: int = 48) -> np.ndarray:
    """A clip whose frame t is filled with (value + 10 t): every frame tells which clip and which time it is."""
    return np.stack([np.full((h, w, 3), min(255, value + 10 * t), np.uint8) for t in range(frames)])


def make_gallery_tree(root: Path, prompt: str = "a red car") -> Path:
    """A suite (depth: 2 cases with condition videos; outpainting: 1 case with video + mask) and two runs of
    'VDOT' (4 and 8 steps) whose outputs sit next to their results files; run 8 lacks one output."""
    suite = root / "suite"
    (suite / "indices").mkdir(parents=True)
    (suite / "videos").mkdir()
    lines = []
    for sid, val in (("000", 20), ("001", 60)):
        (suite / "videos" / f"depth_{sid}.mp4").write_bytes(encode_video(_clip(val), 16.0))
        lines.append({"subtask": "depth", "sample_id": sid, "en_prompt": prompt, "src_video": f"videos/depth_{sid}.mp4"})
    (suite / "videos" / "out_000.mp4").write_bytes(encode_video(_clip(100), 16.0))
    (suite / "videos" / "out_000_mask.mp4").write_bytes(encode_video(_clip(0), 16.0))
    lines.append({"subtask": "outpainting", "sample_id": "000", "en_prompt": "a street",
                  "src_video": "videos/out_000.mp4", "src_mask": "videos/out_000_mask.mp4"})
    (suite / "indices" / "uvcbench_single.txt").write_text("".join(json.dumps(x) + "\n" for x in lines))
    for steps, val in ((4, 140), (8, 180)):
        run = root / "bench" / f"vdot{steps}"
        res = make_results("VDOT", steps, 10.0, {"depth": 0.0, "outpainting": 0.01})
        res.suite.root = str(suite)
        for case in res.cases:
            if steps == 8 and case.case_id == "depth/001":
                continue  # this output is missing on disk
            p = run / case.subtask / f"{case.sample_id}.mp4"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(encode_video(_clip(val), 16.0))
        write_results(run / "results.json", res)
    return root / "bench"


def _decode_webp(data: bytes) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "WEBP"
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


def test_sample_indices_spread_and_keep_ends() -> None:
    assert sample_indices(81, 5) == [0, 20, 40, 60, 80]
    assert sample_indices(3, 24) == [0, 1, 2]
    assert sample_indices(10, 1) == [0]


def test_encode_webp_is_an_animation_of_the_sampled_frames() -> None:
    thumb = encode_webp(_clip(20, frames=9), ThumbConfig(width=24, frames=3, quality=100))
    assert (thumb.width, thumb.height, thumb.frames) == (24, 16, 3)
    frames = _decode_webp(thumb.data)
    assert len(frames) == 3
    # frames 0, 4, 8 of the clip: values 20, 60, 100 (lossy coding: within a few levels)
    assert [int(round(f.mean())) for f in frames] == pytest.approx([20, 60, 100], abs=3)
    assert encode_webp(_clip(20), ThumbConfig()).data == encode_webp(_clip(20), ThumbConfig()).data


def test_thumb_config_names_the_field() -> None:
    with pytest.raises(ConfigError, match="gallery.width"):
        GalleryConfig(thumb=ThumbConfig(width=4)).validate()
    with pytest.raises(ConfigError, match="gallery.cases_per_task"):
        GalleryConfig(cases_per_task=-1).validate()


def test_gallery_collects_conditions_and_outputs(tmp_path: Path) -> None:
    bench = make_gallery_tree(tmp_path)
    entries = load([str(bench)]).entries
    labels = entry_labels(entries)
    assert pick_cases(entries, "depth", 4) == ["depth/000", "depth/001"]
    assert pick_cases(entries, "depth", 1) == ["depth/000"]
    notes: list[str] = []
    g = collect_gallery(entries, task_names(entries), labels, GalleryConfig(thumb=ThumbConfig(width=24)), notes.append)
    assert list(g.tasks) == ["depth", "outpainting"]
    d0, d1 = g.tasks["depth"]
    assert d0.prompt == "a red car" and [t.caption for t in d0.conditions] == ["condition video"]
    assert [t.caption for t in g.tasks["outpainting"][0].conditions] == ["condition video", "mask"]
    # outpainting/001 is in the results but not in the suite
    assert [(t.src, t.note) for t in g.tasks["outpainting"][1].conditions] == [(None, "case not in the suite")]
    # the condition thumbnail shows the condition clip, each output its run's clip
    assert _decode_webp(g.media[d0.conditions[0].src])[0].mean() == pytest.approx(20, abs=3)
    outs = dict(d0.outputs)
    by_steps = {e.nfe: outs[id(e)] for e in entries}
    assert _decode_webp(g.media[by_steps[4].src])[0].mean() == pytest.approx(140, abs=3)
    assert _decode_webp(g.media[by_steps[8].src])[0].mean() == pytest.approx(180, abs=3)
    # run 8 has no depth/001 on disk: a tile that says so, and one note naming the file
    missing = dict(d1.outputs)[id(next(e for e in entries if e.nfe == 8))]
    assert missing.src is None and missing.note == "file not found"
    assert any("vdot8/depth/001.mp4" in n and "does not exist" in n for n in notes)


def test_missing_suite_is_a_note_not_a_failure(tmp_path: Path) -> None:
    bench = make_gallery_tree(tmp_path)
    import shutil

    shutil.rmtree(tmp_path / "suite")
    entries = load([str(bench)]).entries
    g = collect_gallery(entries, task_names(entries), entry_labels(entries), GalleryConfig())
    assert all([(t.src, t.note) for t in c.conditions] == [(None, "suite not available")]
               for cs in g.tasks.values() for c in cs)
    assert any("conditions not shown" in n for n in g.notes)
    assert all(t.src for c in g.tasks["outpainting"] for _, t in c.outputs)  # outputs still shown


def test_site_pages_show_the_gallery_escaped(tmp_path: Path) -> None:
    bench = make_gallery_tree(tmp_path, prompt=HOSTILE)
    out = tmp_path / "site"
    report = build([str(bench)], out, SiteConfig())
    page = (out / "tasks" / "depth.html").read_text()
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count('loading="lazy"') == 2 + 2 * 2 - 1  # 2 conditions, 2 runs × 2 cases, one output missing
    assert 'src="../media/depth/' in page
    for src in __import__("re").findall(r'src="\.\./(media/[^"]+)"', page):
        assert (out / src).is_file()
    index = (out / "index.html").read_text()
    assert 'href="tasks/depth.html"' in index and 'href="tasks/outpainting.html"' in index
    model = next((out / "models").glob("vdot-*.html")).read_text()
    assert model.count('class="gallery"') == 2 and 'src="../media/outpainting/' in model
    assert any(f.startswith("media/") and f.endswith(".webp") for f in report.files)
    # a rebuild gives the same bytes; with no gallery, the media and task pages are removed
    before = {p: (out / p).read_bytes() for p in report.files}
    build([str(bench)], out, SiteConfig())
    assert before == {p: (out / p).read_bytes() for p in report.files}
    build([str(bench)], out, SiteConfig(gallery=GalleryConfig(cases_per_task=0)))
    assert not (out / "media").exists() or not any((out / "media").rglob("*.webp"))
    assert not (out / "tasks" / "depth.html").exists()


def test_output_path_outside_the_run_folder_is_refused(tmp_path: Path) -> None:
    from leaderboard.gallery import output_path
    from leaderboard.model import CaseRef
    from uvc_data.errors import BadInputError

    entry = load([str(make_gallery_tree(tmp_path))]).entries[0]
    with pytest.raises(BadInputError, match="climbs out"):
        output_path(entry, CaseRef("x", "..", "secret", "depth", "ok"))
