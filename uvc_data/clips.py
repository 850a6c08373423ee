"""Clip windows inside one shot, resampled to the target fps by frame timestamps, with bounded memory.

Time model (seconds from the input's first frame): a shot runs from the time of its first frame to the time of the
next shot's first frame. Usable time is the shot minus `trim_s` at each cut. Target frame k of a shot is the source
frame whose presentation time is nearest to

    t_k = origin + k / fps,        origin = shot start + trim          (a fixed grid: VFR-safe, no index arithmetic)

Clip j takes grid frames [j·S, j·S + T) (S = stride, T = num_frames) and covers [t_{jS}, t_{jS} + T/fps); it is
emitted once the shot is known to extend `trim_s` past its end. Only grid frames of pending clips are held.

Frames are opaque to the clipper: arrays, or frames still at source resolution that `materialize` turns into arrays
when a clip is emitted (the split step passes `SourceFrame.rgb`, so a frame no emitted clip uses is never converted).
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from uvc_data.errors import ConfigError


@dataclass
class ClipConfig:
    """Clip windows. Clips are num_frames long at fps; shorter ones only when min_frames allows (Wan wants 4k+1)."""

    fps: float = 16.0
    num_frames: int = 81
    trim_s: float = 0.25  # dropped after and before each cut
    min_shot_s: float = 0.0  # shots shorter than this give no clips (besides needing room for one clip)
    max_clips_per_shot: int | None = None  # None = as many as fit
    stride_frames: int | None = None  # target frames between clip starts; None = num_frames (back to back)
    min_frames: int | None = None  # None = num_frames (full clips only); else a shot too short for a full clip
    frames_step: int = 4  # gives one clip of num_frames - i·frames_step ≥ min_frames frames (81, 77, ... = 4k+1)
    trim_file_ends: bool = False  # also trim at the start and end of the file (not only at cuts)

    def validate(self) -> None:
        if not self.fps > 0:
            raise ConfigError("clips.fps", f"{self.fps} must be > 0")
        if self.num_frames < 1:
            raise ConfigError("clips.num_frames", f"{self.num_frames} must be ≥ 1")
        if self.trim_s < 0:
            raise ConfigError("clips.trim_s", f"{self.trim_s} must be ≥ 0 seconds")
        if self.min_shot_s < 0:
            raise ConfigError("clips.min_shot_s", f"{self.min_shot_s} must be ≥ 0 seconds")
        if self.max_clips_per_shot is not None and self.max_clips_per_shot < 1:
            raise ConfigError("clips.max_clips_per_shot", f"{self.max_clips_per_shot} must be ≥ 1 (or null: no limit)")
        if self.stride_frames is not None and self.stride_frames < 1:
            raise ConfigError("clips.stride_frames", f"{self.stride_frames} must be ≥ 1 (or null: back to back)")
        if self.min_frames is not None and not 1 <= self.min_frames <= self.num_frames:
            raise ConfigError("clips.min_frames", f"{self.min_frames} must be in 1..num_frames={self.num_frames}")
        if self.frames_step < 1:
            raise ConfigError("clips.frames_step", f"{self.frames_step} must be ≥ 1")

    @property
    def stride(self) -> int:
        return self.stride_frames or self.num_frames

    @property
    def clip_s(self) -> float:
        return self.num_frames / self.fps


def grid_time(origin_s: float, k: int, fps: float) -> float:
    """t_k = origin + k / fps: the time target frame k samples."""
    return origin_s + k / fps


def clip_lengths(cfg: ClipConfig) -> list[int]:
    """Allowed clip lengths, longest first: num_frames, num_frames - step, ... ≥ min_frames."""
    lowest = cfg.min_frames or cfg.num_frames
    return list(range(cfg.num_frames, lowest - 1, -cfg.frames_step))


def fit_length(available: int, cfg: ClipConfig) -> int:
    """The longest allowed clip length ≤ available, or 0 when none fits."""
    return next((n for n in clip_lengths(cfg) if n <= available), 0)


def buffer_bound(cfg: ClipConfig, lag_frames: int, max_frame_gap_s: float) -> int:
    """Most frames a ShotClipper plus the detector look-back hold at once, whatever the input length.

    Grid frames of one pending clip (T) plus those produced while waiting `max(trim_s, min_shot_s)` and two source
    frame gaps past its end; plus the look-back of `lag_frames` + 1 source frames and the one held frame.
    """
    wait_s = max(cfg.trim_s, cfg.min_shot_s) + 2 * max_frame_gap_s
    return cfg.num_frames + math.ceil(wait_s * cfg.fps) + 2 + lag_frames + 2


class GridFrame(NamedTuple):
    k: int  # grid index in the shot
    src_index: int  # source frame it came from
    frame: Any  # what was pushed: an (H, W, 3) array, or a frame `materialize` turns into one


@dataclass
class ClipWindow:
    """One clip cut from a shot: frames (T, H, W, 3) uint8 and where they came from."""

    shot: int
    index_in_shot: int
    start_s: float
    end_s: float
    frames: np.ndarray  # (T, H, W, 3)
    src_indices: list[int]
    shot_start_s: float
    shot_len_s: float  # exact when shot_closed, else the part seen when the clip was emitted
    shot_closed: bool

    @property
    def dup_ratio(self) -> float:
        """Share of target frames that repeat a source frame (upsampling from a lower source fps)."""
        return 1.0 - len(set(self.src_indices)) / max(1, len(self.src_indices))


class ShotClipper:
    """Turn the frames of one shot, pushed in time order, into ClipWindows as soon as each is safe to emit."""

    def __init__(self, cfg: ClipConfig, shot: int, start_s: float, trim_start_s: float,
                 materialize: Callable[[Any], np.ndarray] = np.asarray):
        self.cfg = cfg
        self.materialize = materialize
        self.shot = shot
        self.start_s = start_s
        self.origin = start_s + trim_start_s
        self.grid: deque[GridFrame] = deque()
        self.k_next = 0  # next grid index without a frame
        self.prev: tuple[int, float, Any] | None = None  # last pushed (index, time, frame): nearest pending
        self.next_clip = 0
        self.last_t = start_s

    # -- what is still wanted ------------------------------------------------------------------------------------
    def _limit_reached(self) -> bool:
        limit = self.cfg.max_clips_per_shot
        return limit is not None and self.next_clip >= limit

    def _needed(self, k: int) -> bool:
        """Whether grid frame k belongs to a clip not yet emitted (skips stride gaps and clips past the limit)."""
        s, t = self.cfg.stride, self.cfg.num_frames
        limit = self.cfg.max_clips_per_shot
        j = k // s
        while j >= self.next_clip and j * s + t > k:
            if limit is None or j < limit:
                return True
            j -= 1
        return False

    @property
    def buffered(self) -> int:
        return len(self.grid) + (self.prev is not None)

    def picked(self) -> Iterator[Any]:
        """The frames held for clips not yet emitted, oldest first (a frame picked for several grid times repeats)."""
        return (g.frame for g in self.grid)

    # -- feeding ---------------------------------------------------------------------------------------------------
    def _assign(self, before_s: float) -> None:
        """Give the held frame to every grid time before `before_s` (it is the nearest frame for them)."""
        assert self.prev is not None
        index, _, frame = self.prev
        fps = self.cfg.fps
        while grid_time(self.origin, self.k_next, fps) < before_s:
            if self._limit_reached():
                self.k_next = max(self.k_next, math.ceil((before_s - self.origin) * fps))
                break
            if self._needed(self.k_next):
                self.grid.append(GridFrame(self.k_next, index, frame))
            self.k_next += 1

    def push(self, index: int, time_s: float, frame: Any) -> list[ClipWindow]:
        """Add the next frame of this shot; returns the clips that became safe to emit."""
        if self.prev is not None:
            self._assign((self.prev[1] + time_s) / 2)  # grid times before the midpoint are nearer the held frame
        self.prev = (index, time_s, frame)
        self.last_t = time_s
        return self._ready(time_s, self.cfg.trim_s, closed=False)

    def close(self, end_s: float, trim_end_s: float) -> list[ClipWindow]:
        """The shot ends at `end_s` (the next shot's first frame, or the end of the file)."""
        if self.prev is not None:
            self._assign(end_s)
            self.prev = None
        out = self._ready(end_s, trim_end_s, closed=True)
        if not out and self.next_clip == 0:
            out = self._partial(end_s, trim_end_s)
        self.grid.clear()
        return out

    # -- emitting --------------------------------------------------------------------------------------------------
    def _ready(self, known_end_s: float, trim_end_s: float, closed: bool) -> list[ClipWindow]:
        out: list[ClipWindow] = []
        cfg = self.cfg
        while not self._limit_reached():
            k0 = self.next_clip * cfg.stride
            k1 = k0 + cfg.num_frames
            end = grid_time(self.origin, k1, cfg.fps)
            fits = end + trim_end_s <= known_end_s + 1e-9 and known_end_s - self.start_s >= cfg.min_shot_s
            if not (fits and self.k_next >= k1):
                break
            out.append(self._window(k0, k1, known_end_s, closed))
            self.next_clip += 1
            keep_from = self.next_clip * cfg.stride
            while self.grid and self.grid[0].k < keep_from:
                self.grid.popleft()
        return out

    def _partial(self, end_s: float, trim_end_s: float) -> list[ClipWindow]:
        """A shorter clip for a shot with room for none of full length (only when min_frames allows)."""
        cfg = self.cfg
        if cfg.min_frames is None or cfg.min_frames >= cfg.num_frames or end_s - self.start_s < cfg.min_shot_s:
            return []
        available = math.floor((end_s - trim_end_s - self.origin) * cfg.fps + 1e-9)
        n = fit_length(min(available, self.k_next), cfg)
        return [self._window(0, n, end_s, True)] if n else []

    def _window(self, k0: int, k1: int, known_end_s: float, closed: bool) -> ClipWindow:
        frames = [g for g in self.grid if k0 <= g.k < k1]
        if len(frames) != k1 - k0:  # an internal invariant, not user input
            raise RuntimeError(f"shot {self.shot}: clip [{k0}, {k1}) has {len(frames)} grid frames")
        start = grid_time(self.origin, k0, self.cfg.fps)
        return ClipWindow(
            shot=self.shot,
            index_in_shot=self.next_clip,
            start_s=start,
            end_s=grid_time(self.origin, k1, self.cfg.fps),
            frames=np.stack([self.materialize(g.frame) for g in frames]),
            src_indices=[g.src_index for g in frames],
            shot_start_s=self.start_s,
            shot_len_s=known_end_s - self.start_s,
            shot_closed=closed,
        )
