"""The official RAFT (as VBench vendors it) as an oracle, seeded random checkpoints in the official container format
('module.'-prefixed DataParallel state dict), and textured test videos. Test helpers only."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from tests.fixtures.reference_code import stub_module, stub_packages

RAFT_PACKAGES = ("vbench", "vbench.third_party", "vbench.third_party.RAFT", "vbench.third_party.RAFT.core")


def oracle_args(model: str = "") -> argparse.Namespace:
    """The args VBench's compute_dynamic_degree builds (argparse.Namespace supports `in` like its EasyDict)."""
    return argparse.Namespace(model=model, small=False, mixed_precision=False, alternate_corr=False)


def oracle_raft():
    """vbench.third_party.RAFT.core.raft.RAFT and InputPadder (imported without vbench's torchvision-importing
    package __init__ files)."""
    stub_packages(*RAFT_PACKAGES)
    from vbench.third_party.RAFT.core.raft import RAFT
    from vbench.third_party.RAFT.core.utils_core.utils import InputPadder

    return RAFT, InputPadder


def oracle_dynamic_degree_cls():
    """vbench.dynamic_degree.DynamicDegree, with its two helpers that are not needed per video stubbed."""
    stub_packages(*RAFT_PACKAGES)
    stub_module("easydict", EasyDict=dict)  # only used by compute_dynamic_degree
    stub_module("vbench.utils", load_dimension_info=None)  # ditto (vbench.utils imports torchvision)
    from vbench.dynamic_degree import DynamicDegree

    return DynamicDegree


def random_official_state(seed: int = 0, flow_scale: float = 1.0) -> dict[str, torch.Tensor]:
    """A seeded random oracle RAFT's weights with non-trivial batch-norm statistics, keys prefixed 'module.' as in
    raft-things.pth. `flow_scale` scales the flow head's last conv (random weights otherwise move ~1 px/iteration)."""
    raft_cls, _ = oracle_raft()
    torch.manual_seed(seed)
    model = raft_cls(oracle_args())
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
                m.running_var.copy_(0.5 + 1.5 * torch.rand(n, generator=g))
                m.weight.copy_(0.5 + torch.rand(n, generator=g))
                m.bias.copy_(0.4 * torch.rand(n, generator=g) - 0.2)
                m.num_batches_tracked.fill_(1000)
        model.update_block.flow_head.conv2.weight.mul_(flow_scale)
        model.update_block.flow_head.conv2.bias.mul_(flow_scale)
    return {f"module.{k}": v.clone() for k, v in model.state_dict().items()}


def save_official(state: dict[str, torch.Tensor], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, str(path))
    return path


def oracle_from_checkpoint(path: Path):
    """The oracle loaded by VBench's own loading path (DynamicDegree.load_model: torch.load, strip 'module.',
    strict load_state_dict, eval)."""
    dd = oracle_dynamic_degree_cls()(oracle_args(str(path)), "cpu")
    return dd


def textured_video(frames: int, height: int, width: int, speeds: list[float], seed: int = 0) -> np.ndarray:
    """(T, H, W, 3) uint8: a smooth random texture translated horizontally by cumulative `speeds` px per frame."""
    import cv2

    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.integers(0, 256, (height, width + 64, 3), dtype=np.uint8), (0, 0), 2.0)
    offsets = np.concatenate([[0.0], np.cumsum(speeds)])[:frames]
    out = []
    for dx in offsets:
        m = np.float32([[1, 0, -dx], [0, 1, 0]])
        out.append(cv2.warpAffine(big, m, (width + 64, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return np.stack(out)[:, :, 32 : 32 + width].copy()
