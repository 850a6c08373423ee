"""Probe and streaming reader: sizes, fit policies, rotation, VFR timestamps, odd and 4K sources."""
from __future__ import annotations

import numpy as np
import pytest

from uvc_data.configurable import validate
from uvc_data.errors import ConfigError
from uvc_data.testing.synth import make_video
from uvc_data.video.probe import probe
from uvc_data.video.reader import DecodeConfig, VideoReader, apply_geometry, plan_geometry, quarter_turns


def test_probe_reads_headers(videos):
    v = videos["cuts"]
    info = probe(v.path)
    assert (info.width, info.height, info.codec) == (192, 112, "h264")
    assert info.fps == pytest.approx(25.0)
    assert info.num_frames == v.num_frames
    assert info.duration_s == pytest.approx(v.num_frames / 25, abs=0.05)


@pytest.mark.parametrize("fit", ["crop", "pad", "stretch"])
def test_geometry_lands_on_the_working_size(fit):
    for coded, rot in [((3840, 2160), 0), ((1920, 1080), 90), ((161, 97), 0), ((720, 1280), -90), ((100, 100), 180)]:
        g = plan_geometry(*coded, 1.0, rot, DecodeConfig(width=832, height=480, fit=fit))
        scaled = np.zeros((g.scale_h, g.scale_w, 3), np.uint8)
        assert apply_geometry(scaled, g).shape == (480, 832, 3)


def test_crop_keeps_aspect_and_pad_fits_inside():
    g = plan_geometry(1920, 1080, 1.0, 0, DecodeConfig(width=832, height=480, fit="crop"))
    assert g.scale_h == 480 and g.scale_w == 854  # 16:9 scaled to cover 480 rows, then 11 columns cut each side
    assert g.crop == (0, 11, 480, 832)
    g = plan_geometry(1920, 1080, 1.0, 0, DecodeConfig(width=832, height=480, fit="pad"))
    assert (g.scale_w, g.scale_h) == (832, 468) and g.pad == (6, 0)
    g = plan_geometry(1920, 1080, 1.0, 90, DecodeConfig(width=832, height=480))
    assert (g.display_w, g.display_h) == (1080, 1920)
    assert (g.scale_w, g.scale_h) == (1480, 832)  # coded orientation; 1920·832/1080 = 1479.1, rounded up to cover
    g = plan_geometry(720, 576, 16 / 15, 0, DecodeConfig())  # anamorphic PAL pixels
    assert (g.display_w, g.display_h) == (768, 576)


def test_quarter_turns():
    assert [quarter_turns(r) for r in (0, 90, 180, -180, -90, 270)] == [0, 1, 2, 2, 3, 3]


def test_reader_streams_working_size_frames_with_times(videos):
    v = videos["cuts"]
    reader = VideoReader(v.path, DecodeConfig(width=64, height=48))
    frames = list(reader)
    assert len(frames) == v.num_frames == reader.frames_decoded
    assert all(f.rgb.shape == (48, 64, 3) and f.rgb.dtype == np.uint8 for f in frames)
    assert [f.index for f in frames] == list(range(v.num_frames))
    np.testing.assert_allclose([f.time_s for f in frames], v.times_s, atol=1e-4)


def test_vfr_timestamps_are_kept(videos):
    v = videos["vfr"]
    times = [f.time_s for f in VideoReader(v.path, DecodeConfig(width=64, height=48))]
    gaps = np.diff(times)
    assert gaps.max() > 2 * gaps.min()  # really variable
    np.testing.assert_allclose(times, v.times_s, atol=1e-4)


@pytest.mark.parametrize("name,k", [("rot90", 1), ("rot270", 3)])
def test_rotation_gives_the_displayed_orientation(videos, name, k):
    cfg = DecodeConfig(width=96, height=160, fit="stretch")  # displayed portrait: 96 wide, 160 high
    upright = next(iter(VideoReader(videos["rot0"].path, DecodeConfig(width=160, height=96, fit="stretch")))).rgb
    reader = VideoReader(videos[name].path, cfg)
    rotated = next(iter(reader)).rgb
    assert reader.geometry is not None and (reader.geometry.display_w, reader.geometry.display_h) == (96, 160)
    expected = np.rot90(upright, k=k)  # FFmpeg display matrix: rotation is counter-clockwise
    assert np.abs(rotated.astype(int) - expected).mean() < 3
    assert np.abs(rotated.astype(int) - np.rot90(upright, k=k + 2)).mean() > 20  # not upside down


def test_odd_source_size(videos):
    reader = VideoReader(videos["odd"].path, DecodeConfig(width=64, height=48))
    assert reader.info.width == 161 and reader.info.height == 97
    assert all(f.rgb.shape == (48, 64, 3) for f in reader)


def test_4k_source_is_scaled_in_the_decoder(tmp_path):
    v = make_video(tmp_path / "k4.mp4", 3840, 2160, 30, shots=[6])
    reader = VideoReader(v.path, DecodeConfig())
    frames = [f.rgb for f in reader]
    assert len(frames) == 6 and frames[0].shape == (480, 832, 3)
    assert reader.geometry is not None and (reader.geometry.scale_w, reader.geometry.scale_h) == (854, 480)
    assert frames[0].std() > 20  # texture survived, not a flat frame


@pytest.mark.parametrize("field,value", [("width", 831), ("height", 0), ("fit", "zoom"), ("threads", -1),
                                         ("interpolation", "nearest"), ("min_decoded_ratio", 1.5)])
def test_decode_config_errors_name_the_field(field, value):
    with pytest.raises(ConfigError, match=f"decode.{field}"):
        validate(DecodeConfig(**{field: value}))
