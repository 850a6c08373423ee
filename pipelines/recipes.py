"""Named build recipes. `uvc data build --recipe NAME`; `uvc data recipes` lists them."""
from __future__ import annotations

from typing import Callable

from uvc_data.errors import ConfigError, UnknownNameError
from pipelines.build import BuildConfig


def offline() -> BuildConfig:
    """Default: 832×480, 81 frames at 16 fps, offline annotators (no weights; depth reports itself unavailable),
    sidecar captions. Everything runs on a CPU."""
    return BuildConfig()


def production() -> BuildConfig:
    """The paper's kind of build: model annotators and a VLM captioner. Give the weight paths with --set, e.g.
    annotator_options.depth.weights=/models/Depth-Anything-V2-Large-hf
    annotator_options.pose.dwpose_dir=/models/dwpose  annotator_options.flow.raft_weights=/models/raft-things.pth
    caption.model_path=/models/Qwen2.5-VL-7B-Instruct  (or caption.backend=openai caption.endpoint=... caption.model=...)
    stages.depth.num_gpus=0.5 stages.pose.num_gpus=0.25 stages.flow.num_gpus=0.25 stages.caption.num_gpus=1
    executor.kind=ray  (each model is a stage of its own: pipelines.stage_plan)"""
    cfg = BuildConfig()
    cfg.caption.backend = "transformers"
    cfg.annotator_options = {"flow": {"backend": "raft"}, "pose": {"backend": "dwpose"}}
    return cfg


def tiny() -> BuildConfig:
    """Small and fast, for tests, the demo and a first look: 256×144, 13 frames (4k+1) at 8 fps, 0.1 s trimmed at
    cuts, sources down to 128 px accepted."""
    cfg = BuildConfig()
    cfg.split.decode.width, cfg.split.decode.height = 256, 144
    cfg.split.clips.fps, cfg.split.clips.num_frames, cfg.split.clips.trim_s = 8.0, 13, 0.1
    cfg.filter_options = {"resolution": {"min_short_side": 128}}
    cfg.writer.preset = "ultrafast"
    return cfg


RECIPES: dict[str, Callable[[], BuildConfig]] = {"offline": offline, "production": production, "tiny": tiny}


def get_recipe(name: str) -> BuildConfig:
    if name not in RECIPES:
        raise ConfigError("recipe", str(UnknownNameError("recipe", name, list(RECIPES))))
    return RECIPES[name]()
