"""What a captioner shows the model of one clip: frames picked at `sample_fps` (at most `max_frames`), downscaled,
and the facts a video processor needs to take them as they are — the clip's real rate and which frames were picked.

A video processor that is not told these re-samples what it is given at an assumed rate (Qwen3-VL's: 24 fps, so 8
frames of a 4 s clip become 4 frames stamped 0.0-0.3 s). `ShownClip.video_metadata()` is transformers'
VideoMetadata for the clip (`total_num_frames` and `fps` of the clip, `frames_indices` of the frames shown): with it
and `do_sample_frames=False`, the processor keeps the frames and time-stamps them at their real times.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def sample_indices(n: int, fps: float, sample_fps: float, max_frames: int) -> np.ndarray:
    """Indices of the frames to show of a clip of `n` frames at `fps`: evenly spread, `sample_fps` per second of
    clip, at least 1 and at most `max_frames`. (T',) int, increasing."""
    want = int(min(max_frames, max(1, round(n / max(fps, 1e-6) * sample_fps))))
    return np.unique(np.linspace(0, n - 1, want).round().astype(int))


def downscale(frames: np.ndarray, max_pixels: int) -> np.ndarray:
    """(T, H, W, 3) → (T, H', W', 3) with H'·W' ≤ max_pixels, even sides (INTER_AREA); unchanged when it fits."""
    import cv2

    h, w = frames.shape[1:3]
    scale = min(1.0, (max_pixels / float(h * w)) ** 0.5)
    if scale >= 1.0:
        return frames
    nh, nw = max(2, int(h * scale) // 2 * 2), max(2, int(w * scale) // 2 * 2)
    return np.stack([cv2.resize(f, (nw, nh), interpolation=cv2.INTER_AREA) for f in frames])


def shown_fps(shown: int, clip_frames: int, clip_fps: float) -> float:
    """The real rate of `shown` frames picked evenly from a clip of `clip_frames` at `clip_fps`: shown / seconds."""
    seconds = clip_frames / clip_fps if clip_fps > 0 else float(clip_frames)
    return shown / seconds if seconds > 0 else float(shown)


@dataclass(frozen=True)
class ShownClip:
    frames: np.ndarray  # (T', H', W', 3) uint8: what the model sees
    indices: np.ndarray  # (T',) their positions in the clip
    clip_frames: int
    clip_fps: float

    @property
    def rate(self) -> float:
        """Frames shown per second of clip (e.g. 4 frames of a 2.06 s clip: 1.94)."""
        return shown_fps(len(self.indices), self.clip_frames, self.clip_fps)

    def video_metadata(self) -> dict[str, Any]:
        """transformers.video_utils.VideoMetadata fields (vLLM takes the same dict next to the frames)."""
        return {"total_num_frames": int(self.clip_frames), "fps": float(self.clip_fps),
                "duration": self.clip_frames / self.clip_fps if self.clip_fps > 0 else None,
                "frames_indices": [int(i) for i in self.indices],
                "height": int(self.frames.shape[1]), "width": int(self.frames.shape[2])}


def pick_frames(frames: np.ndarray, fps: float, sample_fps: float, max_frames: int, max_pixels: int) -> ShownClip:
    """The frames to show of a clip (T, H, W, 3) at `fps`, with their indices (see the module docstring)."""
    idx = sample_indices(frames.shape[0], fps, sample_fps, max_frames)
    return ShownClip(downscale(frames[idx], max_pixels), idx, int(frames.shape[0]), float(fps))


def sample_frames(frames: np.ndarray, fps: float, sample_fps: float, max_frames: int, max_pixels: int) -> np.ndarray:
    """The frames of `pick_frames` alone: (T', H', W', 3)."""
    return pick_frames(frames, fps, sample_fps, max_frames, max_pixels).frames
