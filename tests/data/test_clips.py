"""Clip windows inside one shot: nearest-frame resampling by timestamps, trims, stride, limits, bounded memory."""
from __future__ import annotations

import math

import numpy as np
import pytest

from uvc_data.clips import ClipConfig, ShotClipper, buffer_bound, clip_lengths, fit_length
from uvc_data.configurable import validate
from uvc_data.errors import ConfigError


def frame(i: int) -> np.ndarray:
    """A 2×2 frame carrying its index, so clips can be traced back to source frames."""
    return np.full((2, 2, 3), i % 256, np.uint8)


def run_shot(cfg: ClipConfig, times: list[float], end_s: float, trim_start: float = 0.0, trim_end: float = 0.0):
    clipper = ShotClipper(cfg, shot=0, start_s=times[0], trim_start_s=trim_start)
    out, peak = [], 0
    for i, t in enumerate(times):
        out += clipper.push(i, t, frame(i))
        peak = max(peak, clipper.buffered)
    out += clipper.close(end_s, trim_end)
    return out, peak


def nearest(times: np.ndarray, t: float) -> set[int]:
    d = np.abs(times - t)
    return set(np.flatnonzero(d <= d.min() + 1e-9).tolist())


def test_clip_lengths_follow_the_frame_step():
    assert clip_lengths(ClipConfig()) == [81]
    assert clip_lengths(ClipConfig(min_frames=69)) == [81, 77, 73, 69]
    assert fit_length(75, ClipConfig(min_frames=69)) == 73 and fit_length(60, ClipConfig(min_frames=69)) == 0


@pytest.mark.parametrize("src_fps", [25.0, 30.0, 60.0, 12.0])
def test_frames_are_the_nearest_source_frames(src_fps):
    cfg = ClipConfig(fps=16.0, num_frames=17, trim_s=0.0)
    times = [i / src_fps for i in range(int(6 * src_fps))]
    end = times[-1] + 1 / src_fps
    clips, _ = run_shot(cfg, times, end)
    arr = np.array(times)
    assert len(clips) == math.floor(end * 16 / 17)
    for c in clips:
        for k, src in enumerate(c.src_indices):
            assert src in nearest(arr, c.start_s + k / 16)
        assert c.frames.shape == (17, 2, 2, 3)
        assert c.frames[:, 0, 0, 0].tolist() == [s % 256 for s in c.src_indices]
    if src_fps < 16:
        assert clips[0].dup_ratio > 0.2  # upsampling repeats frames


def test_vfr_times_resample_by_timestamp():
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.005, 0.08, size=400)).tolist()
    cfg = ClipConfig(fps=16.0, num_frames=9, trim_s=0.0)
    clips, _ = run_shot(cfg, times, times[-1] + 0.01)
    assert clips
    arr = np.array(times)
    for c in clips:
        assert all(src in nearest(arr, c.start_s + k / 16) for k, src in enumerate(c.src_indices))


def test_trims_and_back_to_back_windows():
    cfg = ClipConfig(fps=10.0, num_frames=10, trim_s=0.5)  # 1 s clips
    times = [i / 20 for i in range(80)]  # a 4 s shot at 20 fps
    clips, _ = run_shot(cfg, times, 4.0, trim_start=0.5, trim_end=0.5)
    assert [(c.start_s, c.end_s) for c in clips] == [(0.5, 1.5), (1.5, 2.5), (2.5, 3.5)]
    assert all(c.start_s >= 0.5 and c.end_s <= 3.5 for c in clips)


def test_stride_overlap_gap_and_limit():
    times = [i / 20 for i in range(80)]
    starts = lambda cfg: [round(c.start_s, 6) for c in run_shot(cfg, times, 4.0)[0]]  # noqa: E731
    assert starts(ClipConfig(fps=10.0, num_frames=10, trim_s=0, stride_frames=5)) == [0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert starts(ClipConfig(fps=10.0, num_frames=10, trim_s=0, stride_frames=15)) == [0, 1.5, 3.0]
    assert starts(ClipConfig(fps=10.0, num_frames=10, trim_s=0, max_clips_per_shot=2)) == [0, 1.0]


def test_short_shots_give_partial_clips_only_when_allowed():
    times = [i / 20 for i in range(30)]  # a 1.5 s shot
    full = ClipConfig(fps=16.0, num_frames=33, trim_s=0.0)  # 2.06 s clips
    assert run_shot(full, times, 1.5)[0] == []
    partial = ClipConfig(fps=16.0, num_frames=33, trim_s=0.0, min_frames=17)
    (clip,) = run_shot(partial, times, 1.5)[0]
    assert clip.frames.shape[0] == 21 and clip.end_s <= 1.5  # 33, 29, 25 do not fit 24 target frames; 21 does


def test_min_shot_s_rejects_short_shots():
    times = [i / 20 for i in range(60)]  # 3 s
    assert run_shot(ClipConfig(fps=10.0, num_frames=10, trim_s=0, min_shot_s=3.5), times, 3.0)[0] == []
    assert len(run_shot(ClipConfig(fps=10.0, num_frames=10, trim_s=0, min_shot_s=2.5), times, 3.0)[0]) == 3


def test_clips_are_emitted_while_streaming_and_memory_stays_bounded():
    cfg = ClipConfig(fps=16.0, num_frames=33, trim_s=0.25)
    src_fps = 30.0
    times = [i / src_fps for i in range(30 * 120)]  # a 2-minute shot
    clipper = ShotClipper(cfg, 0, 0.0, 0.0)
    emitted_at, peak = [], 0
    for i, t in enumerate(times):
        for c in clipper.push(i, t, frame(i)):
            emitted_at.append((c.end_s, t))
        peak = max(peak, clipper.buffered)
    assert len(emitted_at) == math.floor((120 - 0.25) / (33 / 16))
    assert all(t - end < 0.25 + 2 / src_fps for end, t in emitted_at)  # as soon as the trim margin is seen
    assert peak <= buffer_bound(cfg, lag_frames=0, max_frame_gap_s=1 / src_fps)
    assert peak < 45  # about one clip (33 target frames), not the shot (1920 target frames)


@pytest.mark.parametrize("field,value", [("fps", 0.0), ("num_frames", 0), ("trim_s", -0.1), ("min_shot_s", -1.0),
                                         ("max_clips_per_shot", 0), ("stride_frames", 0), ("min_frames", 100),
                                         ("frames_step", 0)])
def test_clip_config_errors_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"clips.{field}"):
        validate(ClipConfig(**{field: value}))
