"""Dense optical flow with OpenCV DIS (offline backends and condition fidelity) and backward warping."""
from __future__ import annotations

import cv2
import numpy as np


def to_gray(frame_HW3: np.ndarray) -> np.ndarray:
    """uint8 RGB → uint8 luma (ITU-R BT.601, OpenCV's RGB2GRAY)."""
    return cv2.cvtColor(np.ascontiguousarray(frame_HW3), cv2.COLOR_RGB2GRAY)


class DISFlow:
    """cv2.DISOpticalFlow (PRESET_MEDIUM): flow_HW2 from frame a to frame b, in pixels (x, y)."""

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM):
        self._dis = cv2.DISOpticalFlow_create(preset)

    def __call__(self, a_HW3: np.ndarray, b_HW3: np.ndarray) -> np.ndarray:
        return self._dis.calc(to_gray(a_HW3), to_gray(b_HW3), None)


def backward_warp(image_HWC: np.ndarray, flow_HW2: np.ndarray) -> np.ndarray:
    """out(x) = image(x + flow(x)), bilinear, border replicated; float32 out."""
    h, w = flow_HW2.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x, map_y = gx + flow_HW2[..., 0], gy + flow_HW2[..., 1]
    return cv2.remap(image_HWC.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
