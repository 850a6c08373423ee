"""DecodeSplit end to end: clips inside true shots, nearest frames by timestamp, provenance, bounded memory."""
from __future__ import annotations

import math

import numpy as np
import pytest

from uvc_data.clips import ClipConfig, buffer_bound
from uvc_data.configurable import apply_overrides
from uvc_data.errors import BadInputError, ConfigError
from uvc_data.sample import VideoInput
from uvc_data.steps.split import DecodeSplit, SplitConfig, sample_key
from uvc_data.testing.synth import make_video
from uvc_data.video.reader import DecodeConfig, VideoReader

from .conftest import BIKES_CUTS

SMALL = DecodeConfig(width=64, height=48)


def split(path, cfg: SplitConfig, source_id="src"):
    step = DecodeSplit(cfg)
    return list(step.run([VideoInput(str(path), source_id, index=3)])), step


def expected_clips(shot_bounds, clip_s, trim, trim_file_ends=False):
    """Back-to-back windows per shot, counted independently of the implementation."""
    n = 0
    for i, (a, b) in enumerate(shot_bounds):
        lo = a + (trim if i > 0 or trim_file_ends else 0)
        hi = b - (trim if i < len(shot_bounds) - 1 or trim_file_ends else 0)
        n += max(0, math.floor((hi - lo) / clip_s + 1e-9))
    return n


def shot_bounds(cut_times, end):
    edges = [0.0, *cut_times, end]
    return list(zip(edges[:-1], edges[1:]))


def check_nearest(samples, path, decode: DecodeConfig, fps: float):
    decoded = list(VideoReader(str(path), decode))
    times = np.array([f.time_s for f in decoded])
    for s in samples:
        for k in range(s.num_frames):
            t = s.provenance.start_s + k / fps
            d = np.abs(times - t)
            candidates = np.flatnonzero(d <= d.min() + 1e-6)
            assert any(np.array_equal(s.frames[k], decoded[c].rgb) for c in candidates), (s.key, k)


def test_clips_lie_inside_true_shots_and_use_nearest_frames(videos):
    v = videos["cuts"]  # shots [0, 2.4), [2.4, 4.4), [4.4, 6.0) s
    cfg = SplitConfig(decode=SMALL, clips=ClipConfig(num_frames=9, trim_s=0.25))
    samples, step = split(v.path, cfg)
    bounds = shot_bounds([v.times_s[c] for c in v.cuts], v.num_frames / v.fps)
    assert len(samples) == expected_clips(bounds, 9 / 16, 0.25) == 7
    for s in samples:
        a, b = bounds[s.provenance.shot]
        lo = a + (0.25 if s.provenance.shot else 0)
        hi = b - (0.25 if s.provenance.shot < 2 else 0)
        assert lo - 1e-6 <= s.provenance.start_s and s.provenance.end_s <= hi + 1e-6
        assert s.provenance.end_s - s.provenance.start_s == pytest.approx(9 / 16)
    check_nearest(samples, v.path, SMALL, 16.0)
    assert step.stats["cuts"] == 2 and step.stats["shots"] == 3 and step.stats["clips"] == 7


def test_sample_fields(videos):
    v = videos["cuts"]
    samples, _ = split(v.path, SplitConfig(decode=SMALL, clips=ClipConfig(num_frames=9)), source_id="a.b")
    s = samples[4]
    assert s.key == "a_b-0004" == sample_key("a.b", 4) and "." not in s.key
    assert s.frames.shape == (9, 48, 64, 3) and s.frames.dtype == np.uint8 and s.fps == 16.0
    assert s.tasks == [] and s.prompt == ""
    p = s.provenance
    assert (p.source, p.source_id, p.clip, p.input_index, p.rotation) == (v.path, "a.b", 4, 3, 0)
    assert (p.src_width, p.src_height, p.src_fps) == (192, 112, 25.0)
    assert [x.provenance.clip for x in samples] == list(range(len(samples)))
    assert s.signals["shot_len_s"] >= 9 / 16 and "shot_start_s" in s.signals and "dup_ratio" in s.signals


def test_bikes_real_footage(bikes_path):
    cfg = SplitConfig(decode=DecodeConfig(width=320, height=192), clips=ClipConfig(num_frames=17, trim_s=0.25))
    samples, step = split(bikes_path, cfg, source_id="bikes")
    assert step.stats["cuts"] == len(BIKES_CUTS)
    bounds = shot_bounds([c / 25 for c in BIKES_CUTS], 10.0)
    assert len(samples) == expected_clips(bounds, 17 / 16, 0.25) == 4
    for s in samples:
        a, b = bounds[s.provenance.shot]
        assert a + 0.25 - 0.04 <= s.provenance.start_s and s.provenance.end_s <= b - 0.25 + 0.04
        # no cut inside a clip: frame-to-frame change stays below the smallest jump at a true cut (53 here)
        jumps = np.abs(np.diff(s.frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
        assert jumps.max() < 45, jumps


def test_rotation_in_provenance_and_frames(videos):
    samples, _ = split(videos["rot90"].path, SplitConfig(decode=DecodeConfig(width=48, height=80),
                                                         clips=ClipConfig(num_frames=5)))
    p = samples[0].provenance
    assert (p.rotation, p.src_width, p.src_height) == (90, 96, 160)
    assert samples[0].frames.shape == (5, 80, 48, 3)


def test_vfr_clips_follow_timestamps(videos):
    v = videos["vfr"]
    cfg = SplitConfig(decode=SMALL, clips=ClipConfig(num_frames=9, trim_s=0.1))
    samples, step = split(v.path, cfg)
    assert samples and step.stats["cuts"] == 1
    check_nearest(samples, v.path, SMALL, 16.0)


def test_memory_is_bounded_on_a_long_input(tmp_path):
    cfg = SplitConfig(decode=DecodeConfig(width=32, height=24), clips=ClipConfig(num_frames=33, trim_s=0.25))
    peaks = []
    for n in (300, 1500):
        v = make_video(tmp_path / f"long{n}.mp4", 64, 48, 30, shots=[n // 3] * 3, seed=n)
        samples, step = split(v.path, cfg)
        assert step.stats["frames_decoded"] == n
        bound = buffer_bound(cfg.clips, lag_frames=3, max_frame_gap_s=1 / 30)
        assert step.last_bound == bound
        assert step.stats["buffer_peak_frames"] <= bound
        peaks.append(step.stats["buffer_peak_frames"])
        bounds = shot_bounds([c / 30 for c in v.cuts], n / 30)
        assert len(samples) == expected_clips(bounds, 33 / 16, 0.25)
    assert peaks[1] == peaks[0]  # 5× longer input, same peak: nothing grows with length
    assert peaks[1] < 60


def test_clips_stream_out_before_the_input_ends(tmp_path):
    v = make_video(tmp_path / "stream.mp4", 64, 48, 30, shots=[600], seed=9)
    step = DecodeSplit(SplitConfig(decode=DecodeConfig(width=32, height=24), clips=ClipConfig(num_frames=17)))
    stream = step.run([VideoInput(v.path, "s")])
    next(stream)
    assert step.stats["frames_decoded"] == 0  # counted at the end of the input: decoding is still under way
    rest = list(stream)
    assert len(rest) + 1 == math.floor(20.0 / (17 / 16))


def test_on_bad_input_skip_records_and_goes_on(tmp_path, videos):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    step = DecodeSplit(SplitConfig(decode=SMALL, clips=ClipConfig(num_frames=9), on_bad_input="skip"))
    out = list(step.run([VideoInput(str(empty), "e"), VideoInput(videos["cuts"].path, "c")]))
    assert len(out) == 7 and step.stats["bad_inputs"] == 1
    assert step.failures[0][0] == str(empty) and "empty file" in step.failures[0][1]
    raising = DecodeSplit(SplitConfig(decode=SMALL))
    with pytest.raises(BadInputError, match="empty file"):
        list(raising.run([VideoInput(str(empty), "e")]))


def test_config_overrides_and_errors():
    cfg = apply_overrides(SplitConfig(), ["decode.fit=pad", "shots.detector=content", "clips.num_frames=49"])
    assert (cfg.decode.fit, cfg.shots.detector, cfg.clips.num_frames) == ("pad", "content", 49)
    with pytest.raises(ConfigError, match="clips.trim_s"):
        DecodeSplit(SplitConfig(clips=ClipConfig(trim_s=-1)))
    with pytest.raises(ConfigError, match="on_bad_input"):
        DecodeSplit(SplitConfig(on_bad_input="ignore"))  # type: ignore[arg-type]
