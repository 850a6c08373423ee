"""Shot detection on decoded frames: real cuts in bikes.mp4, exact synthetic cuts, detector lag, config checks."""
from __future__ import annotations

import numpy as np
import pytest

from uvc_data.configurable import validate
from uvc_data.errors import ConfigError
from uvc_data.shots import ShotConfig, ShotStream, detect_cuts, detection_frame, make_detector
from uvc_data.video.reader import DecodeConfig, VideoReader

from .conftest import BIKES_CUTS


@pytest.fixture(scope="module")
def bikes_frames(bikes_path):
    reader = VideoReader(str(bikes_path), DecodeConfig(width=416, height=240))
    return [f.rgb for f in reader], reader.info.fps


@pytest.mark.parametrize("detector", ["adaptive", "content"])
def test_bikes_cuts_are_found(bikes_frames, detector):
    frames, fps = bikes_frames
    cuts = detect_cuts(frames, ShotConfig(detector=detector), fps)
    assert len(cuts) == len(BIKES_CUTS), cuts
    for found, true in zip(cuts, BIKES_CUTS):
        assert abs(found - true) <= 1, (cuts, BIKES_CUTS)


@pytest.mark.parametrize("detector", ["adaptive", "content"])
def test_synthetic_hard_cuts_are_exact(videos, detector):
    v = videos["cuts"]
    frames = [f.rgb for f in VideoReader(v.path, DecodeConfig(width=128, height=72))]
    assert detect_cuts(frames, ShotConfig(detector=detector), v.fps) == list(v.cuts)


def test_no_cut_inside_one_moving_shot(videos):
    v = videos["rot0"]
    frames = [f.rgb for f in VideoReader(v.path, DecodeConfig(width=128, height=72))]
    assert detect_cuts(frames, ShotConfig(), v.fps) == []


@pytest.mark.parametrize("detector", ["adaptive", "content"])
def test_cuts_are_reported_within_the_declared_lag(videos, detector):
    v = videos["cuts"]
    stream = ShotStream(ShotConfig(detector=detector), v.fps)
    reported = []
    for i, f in enumerate(VideoReader(v.path, DecodeConfig(width=128, height=72))):
        for c in stream.push(f.rgb):
            reported.append((c, i))
    assert [c for c, _ in reported] == list(v.cuts)
    assert all(i - c < stream.lag for c, i in reported)
    assert stream.lag == (3 if detector == "adaptive" else 16)


def test_threshold_and_min_scene_frames_reach_the_detector():
    det = make_detector(ShotConfig(detector="content", threshold=40.0, min_scene_frames=8))
    assert det._threshold == 40.0 and det.event_buffer_length == 8
    det = make_detector(ShotConfig(threshold=5.0, window_width=3))
    assert det.adaptive_threshold == 5.0 and det.window_width == 3


def test_min_scene_frames_merges_short_shots(videos):
    v = videos["cuts"]  # shots of 60, 50, 40 frames
    frames = [f.rgb for f in VideoReader(v.path, DecodeConfig(width=128, height=72))]
    assert detect_cuts(frames, ShotConfig(min_scene_frames=55), v.fps) == [60]


def test_detection_frame_is_small_bgr():
    rgb = np.zeros((480, 832, 3), np.uint8)
    rgb[..., 0] = 255
    small = detection_frame(rgb, 256)
    assert small.shape == (148, 256, 3) and small[0, 0].tolist() == [0, 0, 255]
    assert detection_frame(np.zeros((48, 64, 3), np.uint8), 256).shape == (48, 64, 3)  # never upscaled


@pytest.mark.parametrize("field,value", [("detector", "histogram"), ("threshold", -1.0), ("min_scene_frames", 0),
                                         ("detect_width", 8), ("window_width", 0)])
def test_shot_config_errors_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"shots.{field}"):
        validate(ShotConfig(**{field: value}))
