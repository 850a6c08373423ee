"""Cases read as the official inference reads them (VACE's VaceVideoProcessor, keep-last mode): frame spread, size
from the aspect at 480·832 area, bicubic-antialias resize + centre crop, continuous masks, references on white — and
the 1280×720, 161-frame first-frame case whose kept region scored ≈ 17 dB when the first 81 frames were stretched."""
import json

import cv2
import numpy as np
import pytest
import torch

from uvc_data.video.codec import encode_png, encode_video
from uvc_bench.case_reading import (ReadingConfig, fit_reference, mask_from_frames, output_frames, output_size,
                                    plan_reading, resize_crop, spread_frame_ids)
from uvc_bench.video_io import probe_video


def _const_rate(n, fps):
    return np.stack([np.arange(n) / fps, (np.arange(n) + 1) / fps], axis=1).astype(np.float32)


@pytest.mark.parametrize("n, want", [(161, 81), (81, 81), (80, 77), (50, 49), (9, 9), (2, 1), (1, 1)])
def test_frame_count_follows_the_source(n, want):
    # F = 4·min(⌊(N−1)/4⌋ + 1, 21) − 3: 81 for N ≥ 81, fewer (never an error) for shorter sources
    assert output_frames(n, 720, 1280) == want


def test_output_size_from_the_aspect_at_480x832_area():
    assert output_size(720, 1280, 81) == (480, 832)  # 16:9 → 480×832
    assert output_size(480, 832, 81) == (480, 832)
    assert output_size(1080, 1920, 81) == (480, 832)
    assert output_size(1920, 1080, 81) == (848, 464)  # portrait: oh = round(√(1560·16/9)) = 53, ow = ⌊1560/53⌋ = 29
    assert output_size(720, 720, 81) == (624, 640)  # square: oh = round(√1560) = 39, ow = ⌊1560/39⌋ = 40
    assert output_size(32, 32, 9) == (32, 32)  # a small source keeps its own token count: ⌊32/16⌋² = 4


def test_frames_spread_over_the_whole_source():
    ids = spread_frame_ids(_const_rate(161, 30.0), 81)
    assert ids == list(range(0, 161, 2))  # 0, 2, …, 160 — not the first 81 frames
    assert spread_frame_ids(_const_rate(81, 16.0), 81) == list(range(81))
    assert spread_frame_ids(_const_rate(100, 25.0), 81)[-1] == 99  # the last frame is always reached


def test_probe_timestamps_of_an_encoded_file(tmp_path):
    frames = np.zeros((161, 16, 16, 3), np.uint8)
    (tmp_path / "v.mp4").write_bytes(encode_video(frames, 30.0))
    p = probe_video(tmp_path / "v.mp4")
    assert (p.num_frames, p.height, p.width, p.fps) == (161, 16, 16, 30.0)
    np.testing.assert_allclose(p.timestamps, _const_rate(161, 30.0), atol=1e-4)
    plan = plan_reading(p.timestamps, 720, 1280)
    assert plan.frame_ids == tuple(range(0, 161, 2)) and (plan.height, plan.width) == (480, 832)


def test_resize_keeps_the_aspect_and_crops_the_centre():
    x = np.zeros((1, 720, 1280, 3), np.uint8)
    x[:, :, 640:] = 255  # left half black, right half white
    y = resize_crop(x, 480, 832)
    assert y.shape == (1, 480, 832, 3) and y.dtype == np.uint8
    # scale max(832/1280, 480/720) = 2/3 → 853×480, crop 10 px each side: the edge sits at 426.7 − 10 = 416.7
    col = y[0, 240, :, 0].astype(int)
    assert col[:410].max() == 0 and col[424:].min() == 255
    want = torch.nn.functional.interpolate(torch.from_numpy(x).permute(0, 3, 1, 2), size=(480, 853), mode="bicubic",
                                           antialias=True)[:, :, :, 10:842].permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(y, want)


def test_masks_stay_continuous():
    m = np.zeros((1, 720, 1280, 3), np.uint8)
    m[:, :, 641:] = 255
    soft = mask_from_frames(resize_crop(m, 480, 832))
    assert soft.shape == (1, 480, 832) and soft.min() == 0.0 and soft.max() == 1.0
    assert ((soft > 0) & (soft < 1)).any()  # the resized edge is kept soft, as the official inference does
    np.testing.assert_allclose(mask_from_frames(np.full((1, 2, 2, 3), 128, np.uint8)), 128 / 255, atol=1e-6)


def test_references_on_a_white_canvas():
    img = np.zeros((100, 50, 3), np.uint8)
    r = fit_reference(img, 32, 48)  # scale min(0.32, 0.96): int(32.0) × int(16.0), centred
    assert r.shape == (32, 48, 3) and r.dtype == np.float32
    assert np.all(r[:, :16] == 1.0) and np.all(r[:, 32:] == 1.0) and np.all(r[:, 16:32] == -1.0)
    same = np.full((32, 48, 3), 200, np.uint8)
    np.testing.assert_allclose(fit_reference(same, 32, 48), 200 / 127.5 - 1, atol=1e-6)


def test_explicit_shape_is_a_named_deviation():
    plan = plan_reading(_const_rate(161, 30.0), 720, 1280, ReadingConfig(height=240, width=416, num_frames=41))
    assert (plan.num_frames, plan.height, plan.width) == (41, 240, 416) and plan.frame_ids[-1] == 160


def _texture(h, w, seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 1.0)


def _moving(n, h, w):
    """A textured panorama panned 6 px per frame (every frame differs from its neighbours)."""
    pano = _texture(h, w + 6 * n)
    return np.stack([pano[:, 6 * t : 6 * t + w] for t in range(n)])


@pytest.mark.parametrize("h, w, out_shape", [
    pytest.param(720, 1280, (81, 480, 832), marks=pytest.mark.slow, id="1280x720"),
    # the same geometry at CI size: 11·20 tokens → 176×320; the token budget then allows all 161 frames
    pytest.param(180, 320, (161, 176, 320), id="320x180"),
])
def test_first_frame_case_161_frames(tmp_path, h, w, out_shape):
    """A model that keeps the first frame perfectly: ≈ 17 dB kept-region PSNR when the first 81 frames are stretched
    to the output size (the old reading), high when the source is read as the official inference reads it."""
    from uvc_bench.generate import GenerateConfig, generate_suite
    from uvc_bench.metrics.api import MetricsConfig, Scorer
    from uvc_bench.metrics.fidelity_measures import masked_psnr
    from uvc_bench.score import score_case
    from uvc_bench.suite import load_suite

    clip = _moving(161, h, w)
    src = clip.copy()
    src[1:] = 127  # extension: frame 1 real (mask 0), the rest to generate (gray, mask 1)
    mask = np.full(clip.shape[:3], 255, np.uint8)
    mask[0] = 0
    case_dir = tmp_path / "suite" / "videos"
    case_dir.mkdir(parents=True)
    (case_dir / "src.mp4").write_bytes(encode_video(src, 30.0, crf=12))
    (case_dir / "mask.mp4").write_bytes(encode_video(mask, 30.0, crf=0, preset="ultrafast"))
    (case_dir / "gt.mp4").write_bytes(encode_video(clip, 30.0, crf=12))
    (tmp_path / "suite" / "indices").mkdir()
    (tmp_path / "suite" / "indices" / "uvcbench_single.txt").write_text(json.dumps(
        {"subtask": "firstframe", "sample_id": "a", "en_prompt": "a pan", "src_video": "videos/src.mp4",
         "src_mask": "videos/mask.mp4", "src_ref_images": [], "gt_video": "videos/gt.mp4"}) + "\n")
    out = tmp_path / "out"
    # the baseline returns its input: frame 0 kept exactly as the official reading gives it
    summary = generate_suite(GenerateConfig(suite=str(tmp_path / "suite"), out=str(out), progress=False),
                             log=lambda m: None)
    assert summary.ok == 1
    video = out / "firstframe" / "a.mp4"
    p = probe_video(video)
    assert (p.num_frames, p.height, p.width, p.fps) == (*out_shape, 16.0)

    case = load_suite(tmp_path / "suite").cases[0]
    _, res = score_case(Scorer(MetricsConfig(dimensions=[])), case, video, fidelity=True)
    aligned = res.fidelity["kept_psnr"]
    # the old reading: the first 81 source frames, stretched (bilinear) to the output size, against the same output
    from uvc_data.video.codec import decode_video

    out_frames = decode_video(video)[0]
    stretched = np.stack([cv2.resize(f, out_shape[:0:-1], interpolation=cv2.INTER_LINEAR)
                          for f in src[: out_shape[0]]])
    kept = np.zeros(out_frames.shape[:3], bool)
    kept[0] = True
    old = masked_psnr(out_frames, stretched, kept)
    print(f"kept-region PSNR: aligned {aligned:.2f} dB, first-81-stretched {old:.2f} dB")
    assert aligned > 28 and aligned - old > 8  # measured: 30.7 vs 20.7 dB at 1280×720, 38.1 vs 25.0 at 320×180
