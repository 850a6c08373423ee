"""dynamic_degree: flow on frames sampled every max(1, round(fps/8)); per pair the mean of the top 5% flow magnitudes
(on the frame padded to a multiple of 8, as RAFT's InputPadder); dynamic when round(4·n/16) pairs exceed
6·min(H, W)/256. Reference backend: RAFT raft-things, 20 iterations (native pure-torch RAFT, uvc_data.nets.raft,
docs/nets/raft.md). Offline backend
"dis_flow_offline": OpenCV DIS flow on the luma, same sampling, padding and thresholds."""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch

from uvc_bench.metrics.api import DimScore
from uvc_bench.metrics.flow import DISFlow
from uvc_bench.metrics.formulas import (
    dynamic_threshold,
    flow_magnitude,
    is_dynamic,
    pairs_needed,
    sample_interval,
    top_fraction_mean,
)
from uvc_bench.metrics.layout import resolve
from uvc_bench.metrics.preprocess import pad_replicate, pad_sizes, to_nchw
from uvc_data.errors import BadInputError
from uvc_data.nets.raft import RAFT, RAFTConfig, load_raft
from uvc_data.nets.raft.corr import corr_volume_bytes

# sampled frames (n, H, W, 3) uint8 → flows (H', W', 2) of consecutive pairs on the padded frames, lazily
FlowPairs = Callable[[np.ndarray], Iterator[np.ndarray]]
RAFT_ITERS = 20
RAFT_CORR_BUDGET_BYTES = 2 * 1024**3  # correlation pyramids held at once: caps pairs per forward on big frames


def pair_scores(sampled: np.ndarray, flows: FlowPairs) -> Iterator[float]:
    for flow in flows(sampled):
        yield top_fraction_mean(flow_magnitude(flow))


def video_is_dynamic(frames: np.ndarray, fps: float, flows: FlowPairs) -> bool:
    sampled = frames[:: sample_interval(fps)]
    thres = dynamic_threshold(*frames.shape[1:3])
    return is_dynamic(pair_scores(sampled, flows), thres, pairs_needed(len(sampled)))  # stops early, as VBench


class DynamicDegree:
    def __init__(self, flows: FlowPairs, backend: str):
        self.flows, self.backend = flows, backend

    def score(self, frames: np.ndarray, fps: float) -> DimScore:
        return DimScore(float(video_is_dynamic(frames, fps, self.flows)), backend=self.backend)


def dis_flows(sampled: np.ndarray, flow: DISFlow | None = None) -> Iterator[np.ndarray]:
    flow = flow or DISFlow()
    left, right, top, bottom = pad_sizes(*sampled.shape[1:3], 8)
    padded = np.pad(sampled, ((0, 0), (top, bottom), (left, right), (0, 0)), mode="edge")
    for a, b in zip(padded[:-1], padded[1:]):
        yield flow(a, b)


class DISDynamicDegree(DynamicDegree):
    def __init__(self):
        super().__init__(dis_flows, "dis_flow_offline")

    @classmethod
    def from_config(cls, cfg) -> "DISDynamicDegree":
        return cls()


def raft_pairs_per_forward(batch_size: int, height: int, width: int) -> int:
    """Frame pairs per RAFT forward: `batch_size`, lowered so their correlation pyramids fit RAFT_CORR_BUDGET_BYTES
    (one 480×832 pair holds ~0.2 GB, one 1280×720 pair ~1.1 GB); at least 1."""
    return max(1, min(batch_size, RAFT_CORR_BUDGET_BYTES // corr_volume_bytes(height, width)))


class RAFTFlows:
    """RAFT raft-things with 20 flow updates on consecutive sampled frames, pairs batched. Frames are padded to a
    multiple of 8 (replicate, centred: VBench's InputPadder) and passed in [0, 255]; RAFT maps them to [−1, 1]."""

    def __init__(self, model: RAFT, device: str, batch_size: int):
        self.model, self.device, self.batch_size = model, device, batch_size

    @torch.no_grad()
    def __call__(self, sampled: np.ndarray) -> Iterator[np.ndarray]:
        x, _ = pad_replicate(to_nchw(sampled).float(), 8)  # (n, 3, H', W') in [0, 255]
        h, w = x.shape[-2:]
        min_size = self.model.cfg.min_size
        if min(h, w) < min_size:
            raise BadInputError(f"dynamic_degree (RAFT) needs frames of at least {min_size} px per side, got "
                                f"{sampled.shape[1]}×{sampled.shape[2]}; upscale the video or use "
                                "backend.dynamic_degree = 'offline'")
        step = raft_pairs_per_forward(self.batch_size, h, w)
        for i in range(0, len(x) - 1, step):
            a = x[i : i + step + 1].to(self.device)
            _, flow_B2HW = self.model(a[:-1], a[1:], iters=RAFT_ITERS, test_mode=True)
            yield from flow_B2HW.permute(0, 2, 3, 1).float().cpu().numpy()


class RAFTDynamicDegree(DynamicDegree):
    def __init__(self, model, device: str, batch_size: int):
        super().__init__(RAFTFlows(model, device, batch_size), "raft")

    @classmethod
    def from_config(cls, cfg) -> "RAFTDynamicDegree":
        path = resolve(cfg.weights_dir, "raft_things")
        how = "put the official raft-things.pth at <weights_dir>/raft/raft-things.pth (docs/metrics.md)"
        return cls(load_raft(path, cfg.device, RAFTConfig(), how), cfg.device, cfg.batch_size)
