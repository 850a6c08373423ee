"""dynamic_degree: flow on frames sampled every max(1, round(fps/8)); per pair the mean of the top 5% flow magnitudes
(on the frame padded to a multiple of 8, as RAFT's InputPadder); dynamic when round(4·n/16) pairs exceed
6·min(H, W)/256. Reference backend: RAFT raft-things, 20 iterations (torchvision raft_large). Offline backend
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
from uvc_data.imports import require

# sampled frames (n, H, W, 3) uint8 → flows (H', W', 2) of consecutive pairs on the padded frames, lazily
FlowPairs = Callable[[np.ndarray], Iterator[np.ndarray]]
RAFT_ITERS = 20


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


class RAFTFlows:
    """torchvision RAFT (large) with 20 flow updates, pairs batched; input padded to /8 (replicate) and scaled to
    [−1, 1] as the original RAFT does inside its forward."""

    def __init__(self, model, device: str, batch_size: int):
        self.model, self.device, self.batch_size = model, device, batch_size

    @torch.no_grad()
    def __call__(self, sampled: np.ndarray) -> Iterator[np.ndarray]:
        x, _ = pad_replicate(to_nchw(sampled).float(), 8)
        x = 2.0 * (x / 255.0) - 1.0  # (n, 3, H', W')
        for i in range(0, len(x) - 1, self.batch_size):
            a = x[i : i + self.batch_size + 1].to(self.device)
            flow_B2HW = self.model(a[:-1], a[1:], num_flow_updates=RAFT_ITERS)[-1]
            yield from flow_B2HW.permute(0, 2, 3, 1).float().cpu().numpy()


def load_raft(path, device: str):
    optical_flow = require("torchvision.models.optical_flow", "torchvision",
                           purpose="dynamic_degree (RAFT); torchvision has no CPU build on PyPI")
    model = optical_flow.raft_large(weights=None, progress=False)
    model.load_state_dict(torch.load(str(path), map_location="cpu", weights_only=True))
    return model.to(device).eval()


class RAFTDynamicDegree(DynamicDegree):
    def __init__(self, model, device: str, batch_size: int):
        super().__init__(RAFTFlows(model, device, batch_size), "raft")

    @classmethod
    def from_config(cls, cfg) -> "RAFTDynamicDegree":
        path = resolve(cfg.weights_dir, "raft_things")
        return cls(load_raft(path, cfg.device), cfg.device, cfg.batch_size)
