"""`uvc bench` end to end on a tiny suite built from synthetic shards: baseline + offline metrics, a crashing case,
resume after a killed run, an index escaping its root, a malformed line."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.synthetic import write_synthetic_shards
from uvc_cli.main import main
from uvc_bench.results_validate import validate_results

REPO = Path(__file__).resolve().parents[2]
FAKE = str(REPO / "tests" / "fixtures" / "fake_generator.py")
TASKS = "depth,r2v,outpainting,firstframe+pose"


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    write_synthetic_shards(root / "shards", n=2)
    rc = main(["bench", "build-suite", "--shards", str(root / "shards"), "--out", str(root / "suite"),
               "--per-task", "2", "--tasks", TASKS])
    assert rc == 0
    return root / "suite"


def _command_template():
    return (f"template={sys.executable} {FAKE} --out {{out}} --sample {{sample_id}} --src {{src_video}} "
            f"--frames {{num_frames}} --size {{height}}x{{width}}")


def test_run_baseline_offline_then_normalize(suite, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["bench", "run", "--suite", str(suite), "--out", str(out), "--model", "baseline", "--backend", "offline",
               "--vbench-export", str(tmp_path / "vb"), "--no-progress"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "overall" in printed and "firstframe+pose" in printed
    # what the NA covers, and every missing dimension, in the summary
    assert "vbench convention over 2 of 6 dimensions" in printed and "dynamic_degree=dis_flow_offline" in printed
    assert "MISSING  subject_consistency" in printed and "MISSING  imaging_quality" in printed
    rc = main(["bench", "score", "--suite", str(suite), "--outputs", str(out), "--backend", "auto", "--no-fidelity",
               "--dimensions", "motion_smoothness,dynamic_degree", "--results", str(tmp_path / "auto.json")])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "FALLBACK motion_smoothness: scored by 'dis_interp_offline'" in printed and "FALLBACK dynamic_degree" in printed
    data = json.loads((out / "results.json").read_text())
    validate_results(data)
    assert len(data["cases"]) == 8 and all(c["status"] == "ok" for c in data["cases"])
    assert set(data["metrics"]["backends"]) == {"motion_smoothness", "dynamic_degree"}
    assert "subject_consistency" in data["metrics"]["missing"]  # no offline estimator: said so, not faked
    assert len(list(out.glob("*/*.mp4"))) == 8
    assert main(["bench", "normalize", str(tmp_path / "vb" / "depth_eval_results.json")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["normalized_average"] == pytest.approx(data["tasks"]["depth"]["na"])


def test_crashing_case_is_recorded_and_the_run_goes_on(suite, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("UVC_FAKE_FAIL", "clip000")
    out = tmp_path / "out"
    rc = main(["bench", "generate", "--suite", str(suite), "--out", str(out), "--model", "command",
               "--set", _command_template(), "--no-progress"])
    assert rc == 1  # some cases failed
    log = [json.loads(line) for line in (out / "generation.jsonl").read_text().splitlines()]
    failed = {r["case_id"]: r["error"] for r in log if r["status"] == "failed"}
    assert set(failed) == {f"{t}/clip000" for t in TASKS.split(",")}
    assert all("boom on clip000" in e for e in failed.values())
    assert len(list(out.glob("*/clip001.mp4"))) == 4 and not list(out.glob("*/clip000.mp4"))
    rc = main(["bench", "score", "--suite", str(suite), "--outputs", str(out), "--backend", "offline"])
    assert rc == 0
    data = json.loads((out / "results.json").read_text())
    statuses = {c["case_id"]: c["status"] for c in data["cases"]}
    assert statuses["depth/clip000"] == "failed" and statuses["depth/clip001"] == "ok"
    assert data["tasks"]["depth"]["num_scored"] == 1


def test_resume_after_a_killed_run(suite, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "uvc_cli.main", "bench", "generate", "--suite", str(suite), "--out", str(out),
           "--model", "command", "--set", _command_template(), "--tasks", "depth,outpainting", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "UVC_FAKE_KILL_AFTER": f"{tmp_path / 'calls'}:2"}
    first = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert first.returncode == -9, first.stderr  # killed mid-run by the generator
    done = {p: p.stat().st_mtime_ns for p in out.glob("*/*.mp4")}
    assert len(done) == 2 and not list(out.glob("*/*.tmp"))
    env.pop("UVC_FAKE_KILL_AFTER")
    second = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert len(list(out.glob("*/*.mp4"))) == 4
    assert all(p.stat().st_mtime_ns == t for p, t in done.items())  # earlier videos kept as they were
    assert f"kept {len(done)} existing" in second.stderr  # a log line: stderr


def test_index_escaping_the_root_is_refused(tmp_path, capsys):
    (tmp_path / "indices").mkdir()
    (tmp_path / "indices" / "uvcbench_single.txt").write_text(json.dumps(
        {"subtask": "depth", "sample_id": "1", "en_prompt": "p", "src_video": "../../etc/passwd", "src_mask": None,
         "src_ref_images": []}) + "\n")
    rc = main(["bench", "generate", "--suite", str(tmp_path), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 1 and "indices/uvcbench_single.txt:1" in err and "'..'" in err
    assert not (tmp_path / "o").exists()


def test_malformed_line_is_reported(suite, tmp_path, capsys):
    import shutil

    bad = tmp_path / "suite"
    shutil.copytree(suite, bad)
    idx = bad / "indices" / "uvcbench_composite.txt"
    idx.write_text(idx.read_text() + '{"subtask": "firstframe+pose", "sample_id": \n')
    rc = main(["bench", "score", "--suite", str(bad), "--outputs", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and "indices/uvcbench_composite.txt:3" in err and "not valid JSON" in err


def test_tasks_models_and_unknown_names(capsys):
    assert main(["bench", "tasks"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 18 and any(line.startswith("r2v") and "ref_only" in line for line in lines)
    assert main(["bench", "models"]) == 0
    assert "diffusers" in capsys.readouterr().out
    assert main(["bench", "generate", "--suite", "x", "--out", "y", "--model", "difusers"]) == 2
    assert "Did you mean 'diffusers'" in capsys.readouterr().err
    assert main(["bench", "weights", "fetch", "--dest", "/nonexistent", "dino_vitb61"]) == 2
    assert "unknown weights" in capsys.readouterr().err


def test_set_sections_fold_into_the_one_resolver(suite, tmp_path, capsys):
    """--set KEY (model setting), generate.FIELD and score.FIELD go through uvc_data.configurable.resolve."""
    from uvc_bench.cli import _generate_config, _score_config
    from uvc_cli.main import build_parser

    args = build_parser().parse_args(["bench", "run", "--suite", str(suite), "--out", str(tmp_path / "o"),
                                      "--model", "baseline", "--set", "batch_size=3", "--set", "generate.crf=18",
                                      "--set", "generate.model_name=2025", "--set", "score.metrics.batch_size=5"])
    gen = _generate_config(args, args.out)
    assert gen.crf == 18 and gen.model_name == "2025" and gen.model_settings == {"batch_size": 3}
    assert _score_config(args, args.out).metrics.batch_size == 5
    rc = main(["bench", "generate", "--suite", str(suite), "--out", str(tmp_path / "o"), "--set", "generate.cfr=18"])
    err = capsys.readouterr().err
    assert rc == 2 and "--set generate.cfr=18" in err and "generate.crf" in err
    rc = main(["bench", "generate", "--suite", str(suite), "--out", str(tmp_path / "o"), "--set", "batch_sise=2"])
    assert rc == 2 and "batch_size" in capsys.readouterr().err
    rc = main(["bench", "score", "--suite", str(suite), "--outputs", str(tmp_path / "o"), "--set", "steps=2"])
    assert rc == 2 and "score.FIELD" in capsys.readouterr().err
