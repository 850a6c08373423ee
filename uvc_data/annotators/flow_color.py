"""The Middlebury optical-flow colour wheel (Baker et al., "A Database and Evaluation Methodology for Optical Flow",
IJCV 2011) and its inverse, as pure functions.

Forward: the flow angle picks a hue on a 55-colour wheel (segments RY 15, YG 6, GC 4, CB 11, BM 13, MR 6, linearly
interpolated), the radius (flow magnitude / normaliser, ≤ 1) picks the saturation: colour = 1 − r·(1 − wheel);
radii > 1 are shown darkened (0.75·wheel). The normaliser is the frame's largest radius unless `max_radius` is given
(as VACE/RAFT's `flow_to_image`). Inverse (`flow_from_color`): saturation gives r = 1 − min channel, the hue gives the
wheel position and so the angle; flow = r·max_radius·(cos, sin). Exact up to uint8 quantisation for r ≤ 1.
Shapes: flow (H, W, 2) or (T, H, W, 2) float32 (u = x, v = y in pixels); images (..., 3) uint8 RGB.
"""
from __future__ import annotations

import numpy as np

SEGMENTS = (15, 6, 4, 11, 13, 6)  # RY, YG, GC, CB, BM, MR
NCOLS = sum(SEGMENTS)  # 55


def make_colorwheel() -> np.ndarray:
    """(55, 3) float32 in [0, 255]: the Middlebury wheel, red → yellow → green → cyan → blue → magenta."""
    wheel = np.zeros((NCOLS, 3), np.float32)
    col = 0
    # (channel held at 255, channel ramped, rising?) per segment, in hue order
    plan = ((0, 1, True), (1, 0, False), (1, 2, True), (2, 1, False), (2, 0, True), (0, 2, False))
    for n, (full, ramp, rising) in zip(SEGMENTS, plan):
        steps = np.floor(255 * np.arange(n) / n)
        wheel[col : col + n, full] = 255
        wheel[col : col + n, ramp] = steps if rising else 255 - steps
        col += n
    return wheel


_WHEEL = make_colorwheel() / 255.0  # (55, 3) in [0, 1]
LUT_STEPS = 54 * 64  # the interpolated wheel, 64 steps between neighbouring colours


def _wheel_lut() -> np.ndarray:
    fk = np.arange(LUT_STEPS + 1, dtype=np.float32) * ((NCOLS - 1) / LUT_STEPS)
    k0 = np.floor(fk).astype(np.int32)
    f = (fk - k0)[:, None]
    return ((1 - f) * _WHEEL[k0] + f * _WHEEL[(k0 + 1) % NCOLS]).astype(np.float32)


_LUT = _wheel_lut()  # (LUT_STEPS + 1, 3)
_STARTS = np.concatenate([[0], np.cumsum(SEGMENTS)[:-1]]).astype(np.float32)


def flow_to_color(flow: np.ndarray, max_radius: float | None = None) -> np.ndarray:
    """Render flow (..., H, W, 2) as Middlebury colours (..., H, W, 3) uint8.

    max_radius: the flow magnitude shown fully saturated; None → each frame's own largest magnitude (VACE).
    """
    flow = np.asarray(flow, np.float32)
    if flow.ndim == 4:
        return np.stack([flow_to_color(f, max_radius) for f in flow])
    u, v = flow[..., 0], flow[..., 1]
    rad = np.sqrt(u * u + v * v)
    norm = float(rad.max()) if max_radius is None else float(max_radius)
    rad = rad / (norm + 1e-5)
    a = np.arctan2(-v, -u) * np.float32(1 / np.pi)  # in [-1, 1]
    fk = (a + 1) * np.float32((NCOLS - 1) / 2)  # wheel position in [0, 54]
    idx = np.round(fk * (LUT_STEPS / (NCOLS - 1))).astype(np.int32)
    col = np.take(_LUT, idx, axis=0)  # (H, W, 3): the wheel, linearly interpolated between its 55 colours
    r = rad[..., None]
    # r ≤ 1: 1 − r·(1 − col); r > 1: 0.75·col (= the r = 1 colour darkened)
    col = (1 - np.minimum(r, 1) * (1 - col)) * np.where(r > 1, np.float32(0.75), np.float32(1))
    return np.floor(255 * col).astype(np.uint8)


def flow_from_color(image: np.ndarray, max_radius: float = 1.0) -> np.ndarray:
    """Invert `flow_to_color`: (..., H, W, 3) uint8 → flow (..., H, W, 2) float32 with magnitudes in [0, max_radius].

    The absolute scale is lost when the video was normalised per frame; pass the normaliser if it was fixed.
    Darkened (out-of-range) pixels come back at radius 1; white pixels (no motion) at 0.
    """
    col = np.asarray(image, np.float32) / 255.0
    hi, lo = col.max(-1), col.min(-1)
    darkened = hi < 0.87  # out-of-range pixels are 0.75·wheel (max channel 0.75); in-range ones keep max 1
    wheel = np.where(darkened[..., None], col / 0.75, col)
    rad = np.where(darkened, 1.0, 1.0 - lo)
    # undo the desaturation: wheel = 1 − (1 − col) / r
    safe = np.maximum(rad, 1e-6)[..., None]
    wheel = np.where(darkened[..., None], wheel, 1.0 - (1.0 - col) / safe)
    wheel = np.clip(wheel, 0.0, 1.0)
    pos = _wheel_position(wheel)  # in [0, 55)
    a = 2 * pos / (NCOLS - 1) - 1  # inverse of fk = (a + 1) / 2 · 54
    ang = a * np.pi  # = atan2(−v, −u)
    r = rad * max_radius
    return np.stack([-r * np.cos(ang), -r * np.sin(ang)], -1).astype(np.float32)


def _wheel_position(wheel: np.ndarray) -> np.ndarray:
    """Continuous wheel position of fully saturated colours (..., 3) in [0, 1]: the HSV hue sector and its fraction,
    mapped through the segment lengths."""
    r, g, b = wheel[..., 0], wheel[..., 1], wheel[..., 2]
    mx, mn = wheel.max(-1), wheel.min(-1)
    c = np.maximum(mx - mn, 1e-6)
    hue = np.where(
        mx == r, ((g - b) / c) % 6, np.where(mx == g, (b - r) / c + 2, (r - g) / c + 4)
    )  # [0, 6): sector 0 = RY, 1 = YG, ...
    sector = np.clip(np.floor(hue).astype(np.int32), 0, 5)
    frac = hue - sector
    seg = np.asarray(SEGMENTS, np.float32)
    return _STARTS[sector] + frac * seg[sector]


def motion_magnitude(flow: np.ndarray, width: int) -> float:
    """Mean flow magnitude as a fraction of the frame width per frame (resolution-independent motion signal).

    Averaged over every 4th pixel in each direction: the same mean for smooth flow fields, 16× less work."""
    sub = np.asarray(flow[..., ::4, ::4, :], np.float32)
    return float(np.sqrt((sub**2).sum(-1)).mean() / max(width, 1))
