"""OpenPose-style skeleton rendering (the convention of OpenPose / DWPose control videos), as pure functions.

Body: the 18 OpenPose keypoints (0 nose, 1 neck, 2–4 right shoulder/elbow/wrist, 5–7 left, 8–10 right hip/knee/ankle,
11–13 left, 14/15 right/left eye, 16/17 right/left ear), 17 limbs drawn as filled ellipses in the standard 18-colour
rainbow at 60 % intensity, joints as full-colour dots; hands: 21 points per hand, edges coloured by hue, blue dots;
face: 68 white dots. Keypoints are (x, y, score) in pixels; a point is drawn when score ≥ `threshold`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# OpenPose limbs, as 0-based keypoint pairs.
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
COLORS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
          (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
          (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
HAND_EDGES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11), (11, 12),
              (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20))

# COCO-17 index of each OpenPose-18 keypoint (None: the neck, the mid-point of the shoulders).
OPENPOSE_FROM_COCO = (0, None, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)
REFERENCE_HEIGHT = 480  # line widths below are for this frame height and scale with it


@dataclass
class PersonPose:
    body: np.ndarray  # (18, 3) OpenPose order: x, y, score
    hands: np.ndarray | None = None  # (2, 21, 3)
    face: np.ndarray | None = None  # (68, 3)

    def visible(self, threshold: float) -> int:
        return int((self.body[:, 2] >= threshold).sum())

    def height(self, threshold: float) -> float:
        """Vertical extent (pixels) of the visible body keypoints; 0 when fewer than two are visible."""
        ys = self.body[self.body[:, 2] >= threshold, 1]
        return float(ys.max() - ys.min()) if len(ys) > 1 else 0.0


def coco_to_openpose(coco: np.ndarray) -> np.ndarray:
    """(17, 3) COCO keypoints → (18, 3) OpenPose keypoints; the neck gets the shoulders' mean and smaller score."""
    out = np.zeros((18, 3), np.float32)
    for i, j in enumerate(OPENPOSE_FROM_COCO):
        if j is None:
            l, r = coco[5], coco[6]
            out[i, :2] = (l[:2] + r[:2]) / 2
            out[i, 2] = min(l[2], r[2])
        else:
            out[i] = coco[j]
    return out


def _hsv_to_rgb(h: float) -> tuple[int, int, int]:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(h, 1.0, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_pose(people: list[PersonPose], height: int, width: int, threshold: float = 0.3) -> np.ndarray:
    """One frame: skeletons of `people` on black, (H, W, 3) uint8 RGB."""
    import cv2

    s = height / REFERENCE_HEIGHT
    stick, joint = max(1, round(4 * s)), max(1, round(4 * s))
    canvas = np.zeros((height, width, 3), np.uint8)
    for p in people:
        b = p.body
        for i, (a, c) in enumerate(LIMBS):
            if b[a, 2] < threshold or b[c, 2] < threshold:
                continue
            (x0, y0), (x1, y1) = b[a, :2], b[c, :2]
            length = float(np.hypot(x1 - x0, y1 - y0))
            angle = float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))
            poly = cv2.ellipse2Poly((int((x0 + x1) / 2), int((y0 + y1) / 2)), (int(length / 2), stick),
                                    int(angle), 0, 360, 1)
            cv2.fillConvexPoly(canvas, poly, COLORS[i])
    canvas = (canvas.astype(np.float32) * 0.6).astype(np.uint8)
    for p in people:
        for i in range(18):
            x, y, sc = p.body[i]
            if sc >= threshold:
                cv2.circle(canvas, (int(x), int(y)), joint, COLORS[i], thickness=-1)
        if p.hands is not None:
            for hand in p.hands:
                for e, (a, c) in enumerate(HAND_EDGES):
                    if hand[a, 2] >= threshold and hand[c, 2] >= threshold:
                        cv2.line(canvas, (int(hand[a, 0]), int(hand[a, 1])), (int(hand[c, 0]), int(hand[c, 1])),
                                 _hsv_to_rgb(e / len(HAND_EDGES)), max(1, round(2 * s)))
                for x, y, sc in hand:
                    if sc >= threshold:
                        cv2.circle(canvas, (int(x), int(y)), max(1, round(3 * s)), (0, 0, 255), thickness=-1)
        if p.face is not None:
            for x, y, sc in p.face:
                if sc >= threshold:
                    cv2.circle(canvas, (int(x), int(y)), max(1, round(2 * s)), (255, 255, 255), thickness=-1)
    return canvas
