import numpy as np
import pytest
import torch

from uvc_bench.metrics.api import DimScore, aggregate
from uvc_bench.metrics.formulas import (
    amt_scale,
    consistency_terms,
    dynamic_threshold,
    is_dynamic,
    pairs_needed,
    sample_interval,
    smoothness_from_mad,
    top_fraction_mean,
)
from uvc_bench.metrics.preprocess import (
    center_crop,
    clip_transform,
    dino_transform,
    musiq_transform,
    pad_sizes,
    resize_float,
    shorter_side_size,
)


def test_consistency_terms_by_hand():
    f = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    # t=1: ½(1 + 1); t=2: ½(0 + 0); t=3: ½(max(0, cos(f2, f3)) = 0 + max(0, −1) = 0)
    np.testing.assert_allclose(consistency_terms(f), [1.0, 0.0, 0.0])
    g = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])  # unnormalised on purpose
    c = 1 / np.sqrt(2)
    np.testing.assert_allclose(consistency_terms(g), [c, 0.5 * (1 + c)])


def test_dynamic_degree_constants_match_the_worked_example():
    # 81 frames at 16 fps, 480×832 → 41 frames, threshold 11.25, 10 pairs needed (uvcbench.md)
    assert sample_interval(16) == 2 and len(range(0, 81, sample_interval(16))) == 41
    assert dynamic_threshold(480, 832) == pytest.approx(11.25)
    assert pairs_needed(41) == 10
    assert sample_interval(2) == 1 and sample_interval(24) == 3 and sample_interval(4) == 1  # round(0.5) == 0 → 1
    assert pairs_needed(2) == 0 and pairs_needed(3) == 1 and pairs_needed(6) == 2  # Python rounding: 1.5 → 2


def test_is_dynamic_follows_check_move():
    assert is_dynamic([20, 0, 20], thres=10, count_num=2)
    assert not is_dynamic([20, 0, 5], thres=10, count_num=2)
    assert not is_dynamic([10.0, 10.0], thres=10, count_num=1)  # strictly greater
    assert is_dynamic([0.0], thres=10, count_num=0)  # 2 sampled frames → dynamic
    assert not is_dynamic([], thres=10, count_num=0)


def test_top_fraction_mean():
    m = np.zeros((10, 10))
    m.flat[:5] = [10, 9, 8, 7, 6]
    assert top_fraction_mean(m) == pytest.approx(8.0)  # int(100 · 0.05) = 5 values
    assert top_fraction_mean(np.full((2, 2), 3.0)) == 3.0  # at least one value


def test_smoothness_and_amt_scale():
    assert smoothness_from_mad(0.0) == 1.0 and smoothness_from_mad(25.5) == pytest.approx(0.9)
    assert amt_scale(480, 832, None) == 1.0
    assert amt_scale(480, 832, 80 * 1024**3) == 1.0
    assert amt_scale(2160, 3840, 4 * 1024**3) < 1.0
    assert amt_scale(2160, 3840, None) == 1.0  # the CPU branch (VBench's launcher) rescales only above 8192² px
    assert amt_scale(16384, 16384, None) == 0.5


def test_aggregate_is_frame_weighted_and_scales_imaging():
    per_video = [
        {"subject_consistency": DimScore(1.0, 10), "imaging_quality": DimScore(60.0), "dynamic_degree": DimScore(1.0)},
        {"subject_consistency": DimScore(0.5, 30), "imaging_quality": DimScore(70.0), "dynamic_degree": DimScore(0.0)},
    ]
    agg = aggregate(per_video)
    assert agg["subject_consistency"] == pytest.approx((10 * 1.0 + 30 * 0.5) / 40)  # not the video mean 0.75
    assert agg["imaging_quality"] == pytest.approx(0.65)
    assert agg["dynamic_degree"] == pytest.approx(0.5)
    assert aggregate([]) == {}


def test_torchvision_resize_semantics():
    assert shorter_side_size(480, 832, 224) == (224, 388)
    assert shorter_side_size(832, 480, 224) == (388, 224)
    x = torch.randint(0, 256, (2, 3, 480, 832), dtype=torch.uint8)
    assert torch.equal(resize_float(x, (480, 832), "bilinear"), x.float())
    y = resize_float(x, (224, 388), "bicubic")
    assert y.dtype == torch.float32 and y.shape == (2, 3, 224, 388)
    # VBench resizes float frames: bicubic overshoot at a hard edge is kept, nothing is rounded
    edge = torch.zeros((1, 3, 40, 40), dtype=torch.uint8)
    edge[..., 20:] = 255
    e = resize_float(edge, (97, 97), "bicubic")
    assert e.max() > 255 and e.min() < 0 and not torch.equal(e, e.round())
    c = center_crop(torch.arange(10 * 7).view(1, 1, 10, 7), 4)
    assert c[0, 0, 0, 0].item() == 3 * 7 + 2  # int(round(3.0)), int(round(1.5)) = 2
    assert clip_transform(x).shape == (2, 3, 224, 224)
    assert dino_transform(x).shape == (2, 3, 224, 388)
    assert musiq_transform(x).shape == (2, 3, 295, 512)  # int(480 · 512/832) = 295
    small = torch.full((1, 3, 64, 64), 255, dtype=torch.uint8)
    assert torch.all(musiq_transform(small) == 1.0)
    # a constant image stays constant through the CLIP transform: (1 − mean) / std
    z = clip_transform(small)
    assert torch.allclose(z[0, 0], torch.full((224, 224), (1 - 0.48145466) / 0.26862954))


def test_pad_sizes_like_input_padder():
    assert pad_sizes(480, 832, 8) == (0, 0, 0, 0)
    assert pad_sizes(270, 481, 8) == (3, 4, 1, 1)
