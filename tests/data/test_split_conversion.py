"""DecodeSplit converts to the working size only the frames an emitted clip uses, each once, with the same bytes."""
from __future__ import annotations

import numpy as np
import pytest

from uvc_data.clips import ClipConfig
from uvc_data.errors import ConfigError
from uvc_data.sample import VideoInput
from uvc_data.steps.split import DecodeSplit, SplitConfig
from uvc_data.video.reader import DecodeConfig, VideoReader

SMALL = DecodeConfig(width=64, height=48)


@pytest.fixture
def conversions(monkeypatch):
    """Wrap the reader's converter: every (frame index, working frame) it produces, in call order."""
    calls: list[tuple[int, np.ndarray]] = []
    original = VideoReader.convert

    def counting(self, frame, index):
        rgb = original(self, frame, index)
        calls.append((index, rgb))
        return rgb

    monkeypatch.setattr(VideoReader, "convert", counting)
    return calls


def split(path, cfg: SplitConfig):
    step = DecodeSplit(cfg)
    return list(step.run([VideoInput(str(path), "src")])), step


def check_only_used_frames_converted(samples, calls, path, fps):
    """Each sample frame is a converted frame nearest its grid time; each converted frame is used; none twice."""
    indices = [i for i, _ in calls]
    assert len(indices) == len(set(indices)), "a frame was converted twice"
    converted = dict(calls)
    times = np.array([f.time_s for f in VideoReader(str(path), SMALL).frames()])  # timestamps only: no conversion
    used = set()
    for s in samples:
        for k in range(s.num_frames):
            d = np.abs(times - (s.provenance.start_s + k / fps))
            nearest = np.flatnonzero(d <= d.min() + 1e-6)
            match = [int(c) for c in nearest if c in converted and np.array_equal(converted[c], s.frames[k])]
            assert match, (s.key, k)
            used.add(match[0])
    assert used == set(converted), f"converted but in no clip: {sorted(set(converted) - used)}"


def test_frames_outside_clips_are_never_converted(videos, conversions):
    v = videos["cuts"]  # 150 frames at 25 fps, shots of 2.4, 2.0, 1.6 s; clips of 9 frames at 16 fps, trims 0.25 s
    samples, step = split(v.path, SplitConfig(decode=SMALL, clips=ClipConfig(num_frames=9, trim_s=0.25)))
    assert len(samples) == 7
    check_only_used_frames_converted(samples, conversions, v.path, 16.0)
    assert step.stats["frames_converted"] == len(conversions) == 63  # 7 clips × 9, every grid frame distinct
    assert step.stats["frames_decoded"] == 150 and step.stats["frames_converted_early"] == 0


def test_shots_too_short_for_a_clip_are_never_converted(videos, conversions):
    v = videos["cuts"]  # min_shot_s 2.2: only the first shot (2.4 s) gives clips
    samples, step = split(v.path, SplitConfig(decode=SMALL, clips=ClipConfig(num_frames=9, min_shot_s=2.2)))
    assert {s.provenance.shot for s in samples} == {0} and step.stats["shots_without_clips"] == 2
    check_only_used_frames_converted(samples, conversions, v.path, 16.0)
    assert max(i for i, _ in conversions) < 60  # nothing after the first cut


def test_stride_gaps_and_clip_limits_are_never_converted(videos, conversions):
    v = videos["cuts"]
    clips = ClipConfig(num_frames=5, stride_frames=12, max_clips_per_shot=2, trim_s=0.0)
    samples, step = split(v.path, SplitConfig(decode=SMALL, clips=clips))
    assert len(samples) == 6
    check_only_used_frames_converted(samples, conversions, v.path, 16.0)
    assert step.stats["frames_converted"] == 30


def test_a_small_hold_budget_converts_early_and_gives_the_same_bytes(videos, conversions):
    v = videos["vfr"]
    clips = ClipConfig(num_frames=9, trim_s=0.1)
    lazy, _ = split(v.path, SplitConfig(decode=SMALL, clips=clips))
    n_lazy = len(conversions)
    eager, step = split(v.path, SplitConfig(decode=SMALL, clips=clips, max_unconverted_mb=0))
    assert [s.key for s in eager] == [s.key for s in lazy]
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(eager, lazy))
    # at once: every picked frame, also those of the pending clip each shot ends with (never emitted)
    n_eager = len(conversions) - n_lazy
    assert step.stats["frames_converted_early"] == step.stats["frames_converted"] == n_eager > n_lazy


def test_hold_budget_is_checked():
    with pytest.raises(ConfigError, match="max_unconverted_mb"):
        DecodeSplit(SplitConfig(max_unconverted_mb=-1))
    with pytest.raises(ConfigError, match="decode.prefetch_mb"):
        DecodeSplit(SplitConfig(decode=DecodeConfig(prefetch_mb=0)))
