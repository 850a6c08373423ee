"""VBench's per-video formulas as small pure functions (uvcbench.md, "VBench dimensions"; names after VBench's code)."""
from __future__ import annotations

import math

import numpy as np


def consistency_terms(feats_TD: np.ndarray) -> np.ndarray:
    """Subject/background consistency terms, t = 1..T−1:
    s_t = ½ (max(0, cos(f_{t−1}, f_t)) + max(0, cos(f_0, f_t))), on L2-normalised features. Returns (T−1,)."""
    f = feats_TD / np.linalg.norm(feats_TD, axis=1, keepdims=True).clip(min=1e-12)
    prev = np.maximum(0.0, np.sum(f[:-1] * f[1:], axis=1))
    first = np.maximum(0.0, f[1:] @ f[0])
    return 0.5 * (prev + first)


def top_fraction_mean(magnitude_HW: np.ndarray, fraction: float = 0.05) -> float:
    """Mean of the top `fraction` of flow magnitudes (VBench DynamicDegree.get_score: cut = int(H·W·0.05)).
    At least one value is kept (VBench would return NaN for images under 20 pixels)."""
    flat = np.sort(magnitude_HW.ravel())[::-1]
    cut = max(1, int(magnitude_HW.size * fraction))
    return float(np.mean(flat[:cut]))


def flow_magnitude(flow_HW2: np.ndarray) -> np.ndarray:
    return np.sqrt(np.square(flow_HW2[..., 0]) + np.square(flow_HW2[..., 1]))


def sample_interval(fps: float) -> int:
    """Dynamic degree samples every max(1, round(fps / 8)) frames (Python rounding, as VBench)."""
    return max(1, round(fps / 8))


def dynamic_threshold(height: int, width: int) -> float:
    """thres = 6.0 · min(H, W) / 256 (on the unpadded frame)."""
    return 6.0 * (min(height, width) / 256.0)


def pairs_needed(num_sampled_frames: int) -> int:
    """count_num = round(4 · n / 16), Python (banker's) rounding as VBench."""
    return round(4 * (num_sampled_frames / 16.0))


def is_dynamic(pair_scores: list[float] | np.ndarray, thres: float, count_num: int) -> bool:
    """VBench DynamicDegree.check_move: dynamic once `count_num` pair scores exceed `thres` (so with count_num = 0
    any video with at least one pair is dynamic; a video with no pair is not)."""
    count = 0
    for score in pair_scores:
        if score > thres:
            count += 1
        if count >= count_num:
            return True
    return False


def smoothness_from_mad(mean_abs_diff: float) -> float:
    """Motion smoothness = (255 − mean |interpolated − real odd frame|) / 255."""
    return (255.0 - mean_abs_diff) / 255.0


def amt_scale(height: int, width: int, vram_bytes: float | None) -> float:
    """VBench MotionSmoothness's AMT inference scale: s = R/(H·W)·√((V − b)/M), 1 if s > 1, else 1/(⌊16/√s⌋/16).
    GPU branch (vram_bytes = total GPU memory): R = 1024·512 px, M = 1500 MiB, b = 2500 MiB. CPU branch
    (vram_bytes None): R = 8192² px, M = V = 1, b = 0 — no rescaling below 67 Mpx. VBench's own launcher passes a
    torch.device, never equal to the string 'cuda', so its published numbers always come from the CPU branch."""
    if vram_bytes is None:
        anchor_resolution, anchor_memory, bias, vram = 8192 * 8192, 1.0, 0.0, 1.0
    else:
        anchor_resolution, anchor_memory, bias, vram = 1024 * 512, 1500 * 1024**2, 2500 * 1024**2, float(vram_bytes)
    scale = anchor_resolution / (height * width) * math.sqrt(max(vram - bias, 0.0) / anchor_memory)
    scale = 1.0 if scale > 1 else scale
    return float(1 / np.floor(1 / np.sqrt(scale) * 16) * 16) if scale > 0 else 1.0 / 16
