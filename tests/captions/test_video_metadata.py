"""The transformers backend on a Qwen3-VL (tiny, built from a config, with its real Qwen3VLProcessor): the model sees
exactly the frames we give, time-stamped at their real times, and a batch of 3 clips gives the captions of 3 single
calls. Without the metadata the same processor re-samples 8 frames to 4 at an assumed 24 fps — what this prevents.
Needs torchvision (Qwen-VL video processors use it; no CPU wheel on PyPI): skipped where it does not import."""
from __future__ import annotations

import re

import numpy as np

from uvc_data.captioners import CaptionConfig, CaptionContext, build_captioner
from uvc_data.captioners.base import CaptionRequest
from uvc_data.captioners.frames import pick_frames


def _cfg(path) -> CaptionConfig:
    return CaptionConfig(backend="transformers", model_path=str(path), sample_fps=4.0, max_frames=8,
                         max_new_tokens=4, min_words=1, device="cpu", dtype="float32")


def test_qwen3vl_sees_the_frames_given_at_their_real_times(tiny_qwen3vl_dir):
    cap = build_captioner(_cfg(tiny_qwen3vl_dir))
    cap.setup()
    assert cap.video_mode
    frames = np.random.default_rng(0).integers(0, 256, (33, 64, 64, 3), dtype=np.uint8)  # 2.06 s at 16 fps
    shown = pick_frames(frames, 16.0, 4.0, 8, cap.cfg.max_pixels)
    assert shown.indices.tolist() == [0, 5, 9, 14, 18, 23, 27, 32]
    inputs = cap.inputs([shown])
    t, h, w = inputs["video_grid_thw"][0].tolist()
    merge, temporal = cap.processor.video_processor.merge_size, cap.processor.video_processor.temporal_patch_size
    assert t * temporal == 8  # all 8 frames, in pairs (the temporal patch)
    video_id = cap.model.config.video_token_id
    assert int((inputs["input_ids"] == video_id).sum()) == t * h * w // merge**2
    text = cap.processor.tokenizer.decode(inputs["input_ids"][0])
    stamps = [float(s) for s in re.findall(r"<([0-9.]+) seconds>", text)]
    real = [(a + b) / 2 / 16.0 for a, b in zip(shown.indices[::2], shown.indices[1::2])]  # pair mean, clip fps
    assert stamps == [round(x, 1) for x in real]
    # the same processor without the metadata: re-sampled to 4 frames (its min) at an assumed 24 fps
    plain = cap.processor(text=[text], videos=[shown.frames], return_tensors="pt")
    assert int(plain["video_grid_thw"][0][0]) * temporal == 4


def test_qwen3vl_batch_of_three_equals_three_single_calls(tiny_qwen3vl_dir):
    cap = build_captioner(_cfg(tiny_qwen3vl_dir))
    rng = np.random.default_rng(2)
    clips = [CaptionRequest(rng.integers(0, 256, (9 + 8 * i, 48, 64, 3), dtype=np.uint8), 8.0,
                            CaptionContext(f"{i}.mp4", 0, 1)) for i in range(3)]
    batched = cap.caption_batch(clips)
    singles = [cap.caption_batch([c])[0] for c in clips]
    assert batched == singles and len(set(batched)) > 1
