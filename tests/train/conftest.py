"""Shared fixtures: tiny Wan / Wan-VACE model dirs (saved with save_pretrained, loaded back through the real path)
and tiny multi-task Samples built in code."""
from __future__ import annotations

import pytest
import torch

from uvc_data.sample import Sample
from uvc_data.testing.samples import synthetic_sample
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
    return synthetic_sample(i, frames, size, refs)


@pytest.fixture
def tiny_samples():
    return [make_sample(i) for i in range(4)]
