"""Shared fixtures: tiny Wan / Wan-VACE model dirs (saved with save_pretrained, loaded back through the real path)
and tiny multi-task Samples built in code."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from uvc_data.sample import INPAINT_MASK, REF_IMAGES, Provenance, Sample
from vdot_train.models.tiny import TinySpec, save_tiny_model_dir

torch.set_num_threads(1)

T, H, W = 3, 16, 16


@pytest.fixture(scope="session")
def tiny_vace_dir(tmp_path_factory):
    return str(save_tiny_model_dir(tmp_path_factory.mktemp("vace"), "vace", TinySpec()))


@pytest.fixture(scope="session")
def tiny_t2v_dir(tmp_path_factory):
    return str(save_tiny_model_dir(tmp_path_factory.mktemp("t2v"), "t2v", TinySpec()))


def make_sample(i: int, frames: int = T, size: tuple[int, int] = (H, W), refs: bool = False) -> Sample:
    h, w = size
    # a smooth moving gradient: real structure, not noise
    yy, xx = np.mgrid[0:h, 0:w]
    clip = np.stack([np.stack([(xx * 8 + 20 * t + 40 * i) % 256, (yy * 8) % 256, np.full_like(xx, 60 * i % 256)], -1)
                     for t in range(frames)]).astype(np.uint8)
    mask = np.zeros((frames, h, w), np.uint8)
    mask[:, h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 255
    conditions = {"depth": (255 - clip).astype(np.uint8), INPAINT_MASK: mask}
    tasks = ["t2v", "depth", "extension", "inpainting"]
    if refs:
        conditions[REF_IMAGES] = [np.full((h, w, 3), 255, np.uint8)]
        tasks.append("r2v")
    prov = Provenance(source=f"mem{i}", source_id=f"id{i}", shot=0, clip=i, start_s=0.0, end_s=1.0, src_fps=8.0,
                      src_width=w, src_height=h)
    return Sample(key=f"s{i}", frames=clip, fps=8.0, provenance=prov, prompt=f"a red car number {i}",
                  conditions=conditions, tasks=tasks)


@pytest.fixture
def tiny_samples():
    return [make_sample(i) for i in range(4)]
