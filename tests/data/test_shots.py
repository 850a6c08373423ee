"""Shot detection on decoded frames: real cuts in bikes.mp4 (the luma image finds the cuts the colour image found
before), exact synthetic cuts, detector lag, config checks."""
from __future__ import annotations

import numpy as np
import pytest

from uvc_data.configurable import validate
from uvc_data.errors import ConfigError
from uvc_data.shots import ShotConfig, ShotStream, as_bgr, detect_cuts, detection_frame, make_detector
from uvc_data.video.reader import DecodeConfig, VideoReader, small_image

from .conftest import BIKES_CUTS


def detection_images(path, cfg: ShotConfig = ShotConfig(), decode=DecodeConfig(width=128, height=72)):
    """The images DecodeSplit gives the detector: made by the decoder from the source frames (none converted)."""
    reader = VideoReader(str(path), decode)
    images = [f.detect for f in reader.frames(lambda fr: small_image(fr, cfg.detect_width, cfg.image_format))]
    assert reader.frames_converted == 0
    return images, reader.info.fps


@pytest.fixture(scope="module")
def bikes_images(bikes_path):
    """image kind → (detection images, fps) of bikes.mp4, decoded once per kind."""
    cache = {}

    def get(image: str):
        if image not in cache:
            cache[image] = detection_images(bikes_path, ShotConfig(image=image))
        return cache[image]

    return get


@pytest.fixture(scope="module")
def bikes_working_frames(bikes_path):
    reader = VideoReader(str(bikes_path), DecodeConfig(width=416, height=240))
    return [f.rgb for f in reader], reader.info.fps


@pytest.mark.parametrize("detector", ["adaptive", "content"])
@pytest.mark.parametrize("image", ["luma", "color"])
def test_bikes_cuts_are_found(bikes_images, detector, image):
    cfg = ShotConfig(detector=detector, image=image)
    images, fps = bikes_images(image)
    assert images[0].shape == ((109, 256) if image == "luma" else (109, 256, 3))  # 640×272 shrunk to 256 columns
    cuts = detect_cuts(images, cfg, fps)
    assert len(cuts) == len(BIKES_CUTS), cuts
    for found, true in zip(cuts, BIKES_CUTS):
        assert abs(found - true) <= 1, (cuts, BIKES_CUTS)


@pytest.mark.parametrize("detector", ["adaptive", "content"])
def test_luma_of_the_source_finds_the_cuts_found_before_on_working_frames(bikes_images, bikes_working_frames,
                                                                          detector):
    """Before: the detector read 256-px BGR copies of the converted working frames, scored on hue + saturation +
    value. Now: the source's Y plane at 256 px, luma scores. Same cut positions on real footage."""
    frames, fps = bikes_working_frames
    before = detect_cuts([detection_frame(rgb, 256) for rgb in frames], ShotConfig(detector=detector, image="color"),
                         fps)
    images, _ = bikes_images("luma")
    assert detect_cuts(images, ShotConfig(detector=detector), fps) == before


@pytest.mark.parametrize("detector", ["adaptive", "content"])
def test_synthetic_hard_cuts_are_exact(videos, detector):
    v = videos["cuts"]
    cfg = ShotConfig(detector=detector)
    assert detect_cuts(detection_images(v.path, cfg)[0], cfg, v.fps) == list(v.cuts)


def test_no_cut_inside_one_moving_shot(videos):
    v = videos["rot0"]
    assert detect_cuts(detection_images(v.path)[0], ShotConfig(), v.fps) == []


@pytest.mark.parametrize("detector", ["adaptive", "content"])
def test_cuts_are_reported_within_the_declared_lag(videos, detector):
    v = videos["cuts"]
    stream = ShotStream(ShotConfig(detector=detector), v.fps)
    reported = []
    for i, image in enumerate(detection_images(v.path)[0]):
        for c in stream.push(image):
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
    assert detect_cuts(detection_images(v.path)[0], ShotConfig(min_scene_frames=55), v.fps) == [60]


def test_detection_frame_is_small_bgr():
    rgb = np.zeros((480, 832, 3), np.uint8)
    rgb[..., 0] = 255
    small = detection_frame(rgb, 256)
    assert small.shape == (148, 256, 3) and small[0, 0].tolist() == [0, 0, 255]
    assert detection_frame(np.zeros((48, 64, 3), np.uint8), 256).shape == (48, 64, 3)  # never upscaled


def test_luma_images_reach_the_detector_as_three_equal_channels():
    y = np.arange(12, dtype=np.uint8).reshape(3, 4)
    bgr = as_bgr(y)
    assert bgr.shape == (3, 4, 3) and all(np.array_equal(bgr[..., c], y) for c in range(3))
    assert make_detector(ShotConfig())._weights == make_detector(ShotConfig(image="color", luma_only=True))._weights


@pytest.mark.parametrize("field,value", [("image", "rgb"), ("detector", "histogram"), ("threshold", -1.0), ("min_scene_frames", 0),
                                         ("detect_width", 8), ("window_width", 0)])
def test_shot_config_errors_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"shots.{field}"):
        validate(ShotConfig(**{field: value}))
