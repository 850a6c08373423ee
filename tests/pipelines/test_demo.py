"""The README's main job, shortened: `uvc demo --quick` end to end (real footage → data on the local executor →
suite → tiny teacher from scratch → VDOT and DMD-only → four scored runs → leaderboard), then a re-run that reuses it."""
import json
from pathlib import Path

from uvc_bench.results_validate import validate_results
from uvc_cli.main import main


def test_quick_demo_end_to_end_and_rerun(tmp_path, capsys):
    work = tmp_path / "demo"
    assert main(["demo", "--quick", "--work", str(work)]) == 0
    out = capsys.readouterr().out
    site = work / "leaderboard" / "index.html"
    assert site.is_file() and f"leaderboard: {site.resolve()}" in out
    names = []
    for results in sorted((work / "bench").glob("*/results.json")):
        data = json.loads(results.read_text())
        validate_results(data)
        names.append(data["model"]["name"])
        assert data["overall"]["na"] is not None and set(data["overall"]["na_dimensions"]) == {"dynamic_degree", "motion_smoothness"}
        assert all(t["num_scored"] == t["num_cases"] for t in data["tasks"].values())
    assert sorted(names) == ["dmd_4", "teacher_4", "teacher_8", "vdot_4"]
    html = site.read_text()
    for name in names:
        assert name.replace("_", "_") in html
    # the held-out cases were never trained on, nor any training clip showing their footage (reversed included)
    holdout = set((work / "suite" / "holdout.txt").read_text().split())
    excluded = set((work / "train_exclude.txt").read_text().split())
    assert holdout and holdout <= excluded and len(excluded) > len(holdout)
    assert any("_orig-rev-" in k for k in excluded) and any("_orig-" in k for k in excluded - holdout)
    # the quick teacher trained data-parallel on 2 ranks (torchrun + gloo), the checkpoint says so
    import torch

    state = torch.load(sorted((work / "teacher" / "checkpoints").glob("step_*"))[-1] / "state.pt", weights_only=True)
    assert state["world"] == 2 and len(state["rng_ranks"]) == 2
    # VDOT trained with its losses, DMD-only without OTD/GAN (from the training logs)
    vdot_log = [json.loads(line) for line in (work / "vdot" / "log.jsonl").read_text().splitlines()]
    dmd_log = [json.loads(line) for line in (work / "dmd" / "log.jsonl").read_text().splitlines()]
    assert any("g/otd" in json.dumps(r) for r in vdot_log) and any("gan" in json.dumps(r) for r in vdot_log)
    assert not any("g/otd" in json.dumps(r) or "gan" in json.dumps(r) for r in dmd_log)
    # a re-run reuses every finished stage
    assert main(["demo", "--quick", "--work", str(work)]) == 0
    again = capsys.readouterr().out
    for stage in ("data", "suite", "train_data", "teacher", "vdot", "dmd", "bench", "leaderboard"):
        assert f"[demo] {stage}: done earlier" in again


def test_default_teacher_is_the_measured_size():
    """docs/benchmarks.md records a 1.85 M-parameter teacher with a VACE hint at every block; --quick keeps it tiny."""
    from pipelines.demo import DemoConfig
    from vdot_train.models.tiny import build_tiny_transformer

    full = build_tiny_transformer("vace", DemoConfig().tiny_spec())
    assert round(sum(p.numel() for p in full.parameters()) / 1e6, 2) == 1.85
    assert list(full.config.vace_layers) == [0, 1, 2, 3] and full.config.num_attention_heads * full.config.attention_head_dim == 128
    quick = build_tiny_transformer("vace", DemoConfig.quick("w").tiny_spec())
    assert sum(p.numel() for p in quick.parameters()) < 0.2e6
