"""Presets for the official runs: the VACE teacher (UniPC, shift 16, 50 steps, guidance 5, Wan's negative prompt,
seed 2025) and the VDOT student (4 steps, guidance 1); --model-config / --set override them; results record them."""
import argparse

import pytest

from tests.fixtures.bench_suite import build_tiny_suite
from uvc_data.errors import ConfigError, UnknownNameError
from uvc_data.prompts import WAN_NEGATIVE_PROMPT
from uvc_bench import cli
from uvc_bench.generate import GenerateConfig, generate_suite
from uvc_bench.metrics.api import MetricsConfig
from uvc_bench.score import ScoreConfig, score_outputs


def _args(model, preset, settings=(), config="", seed=None):
    return argparse.Namespace(model=model, preset=preset, settings=list(settings), model_config=config, seed=seed)


def test_teacher_preset_for_diffusers():
    s = cli._model_settings(_args("diffusers", "vace-teacher", ["path=/models/vace"]))
    assert (s["scheduler"], s["shift"], s["steps"], s["guidance"]) == ("unipc", 16.0, 50, 5.0)
    assert s["negative_prompt"] == WAN_NEGATIVE_PROMPT and s["path"] == "/models/vace"


def test_student_preset_for_vdot_and_overrides(tmp_path):
    s = cli._model_settings(_args("vdot", "vdot-student"))
    assert (s["steps"], s["guidance"], s["shift"], s["scheduler"]) == (4, 1.0, 16.0, "unipc")
    cfg = tmp_path / "m.toml"
    cfg.write_text('steps = 8\n')
    s = cli._model_settings(_args("vdot", "vdot-student", ["guidance=2.0"], str(cfg)))
    assert (s["steps"], s["guidance"], s["shift"]) == (8, 2.0, 16.0)  # file over preset, --set over both


def test_preset_errors():
    with pytest.raises(UnknownNameError, match="vdot-student"):
        cli._model_settings(_args("vdot", "vdot-studnet"))
    with pytest.raises(ConfigError, match="not 'baseline'"):
        cli._model_settings(_args("baseline", "vace-teacher"))


def test_results_record_the_preset(tmp_path):
    suite = build_tiny_suite(tmp_path, n_samples=1, per_task=1, tasks=["depth"])
    out = tmp_path / "out"
    generate_suite(GenerateConfig(suite=str(suite), out=str(out), preset="vdot-student", progress=False),
                   log=lambda m: None)
    m = MetricsConfig(dimensions=["dynamic_degree"], backend={"dynamic_degree": "offline"})
    r = score_outputs(ScoreConfig(suite=str(suite), outputs=str(out), metrics=m), log=lambda m: None)
    assert r.model.preset == "vdot-student" and r.generation.seed == 2025
