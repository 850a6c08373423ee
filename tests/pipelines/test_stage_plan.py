"""The stage plan: one stage per model with its own resources, CPU annotators together, task filters last; and a
GPU stage whose model ended up on the CPU fails at setup, naming the model and the cause."""
from __future__ import annotations

import pytest

from pipelines.build import BuildConfig
from pipelines.stage_plan import make_stages
from uvc_data.configurable import apply_overrides, validate
from uvc_data.errors import ConfigError
from uvc_data.testing.tiny_models import save_tiny_depth_anything
from uvc_data.writer.stages import StageRunner


def _names(spec):
    return [s.name for s in spec.factory()]


def test_offline_plan_keeps_the_cpu_annotators_together():
    specs = make_stages(BuildConfig())
    assert [s.name for s in specs] == ["split", "caption", "annotate"]
    assert _names(specs[2])[-1] == "task_aware" and "depth" in _names(specs[2])  # no weights: not a model stage
    assert all(s.num_gpus == 0 for s in specs)


def test_each_configured_model_gets_its_own_stage_and_resources(tmp_path):
    cfg = apply_overrides(BuildConfig(), [
        f"annotator_options.depth.weights={tmp_path}", "annotator_options.pose.backend=dwpose",
        "annotator_options.flow.backend=raft", "stages.depth.num_gpus=0.5", "stages.depth.workers=1",
        "stages.depth.max_workers=3", "stages.pose.num_gpus=0.25", "stages.flow.num_gpus=0.25",
        "stages.flow.num_cpus=2", "stages.caption.num_gpus=1", "stages.split.workers=4"])
    validate(cfg)
    specs = {s.name: s for s in make_stages(cfg)}
    # the configured order is gray, scribble, flow, pose, depth, ...: model stages follow the CPU annotators in it
    assert list(specs) == ["split", "caption", "annotate", "flow", "pose", "depth"]
    assert (specs["depth"].num_gpus, specs["depth"].concurrency) == (0.5, (1, 3))
    assert (specs["flow"].num_gpus, specs["flow"].num_cpus, specs["pose"].num_gpus) == (0.25, 2, 0.25)
    assert (specs["split"].concurrency, specs["caption"].num_gpus, specs["annotate"].num_gpus) == (4, 1, 0)
    assert _names(specs["depth"]) == ["depth", "task_aware"]  # task filters in the last stage only
    assert _names(specs["flow"]) == ["flow"] and "flow" not in _names(specs["annotate"])
    assert "task_aware" not in _names(specs["annotate"])


def test_bad_stage_resources_name_the_field():
    with pytest.raises(ConfigError, match="max_workers"):
        validate(apply_overrides(BuildConfig(), ["stages.depth.workers=3", "stages.depth.max_workers=2"]))


def test_a_gpu_stage_whose_model_is_on_the_cpu_fails_at_setup(tmp_path):
    import torch

    weights = save_tiny_depth_anything(tmp_path / "depth")
    cfg = apply_overrides(BuildConfig(), [f"annotator_options.depth.weights={weights}", "tasks=depth,t2v"])
    validate(cfg)
    depth_cpu = {s.name: s for s in make_stages(cfg)}["depth"]
    runner = StageRunner(depth_cpu, first=False)  # num_gpus=0: the model on the CPU is what was asked for
    assert runner.steps[0].devices() == {"depth (depth_anything)": "cpu"}
    assert runner.steps[0].model.dtype == torch.float32  # dtype auto: float32 on CPU (bfloat16 on CUDA)
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the model would be on the GPU")
    cfg.stages.depth.num_gpus = 1.0
    depth_gpu = {s.name: s for s in make_stages(cfg)}["depth"]
    with pytest.raises(ConfigError, match=r"stages.depth.num_gpus.*depth \(depth_anything\) runs on cpu") as info:
        StageRunner(depth_gpu, first=False)
    assert "CPU-only build" in str(info.value) or "is_available() is False" in str(info.value)
