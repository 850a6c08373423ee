"""Native AMT-S (uvc_bench.metrics.nets.amt) against the reference code VBench runs (vbench 0.1.5's vendored AMT,
loaded as an oracle through tests/fixtures/reference_code.py): layout, outputs on seeded random weights, the loader,
and motion_smoothness end to end against VBench's own MotionSmoothness.motion_score."""
from __future__ import annotations

import importlib
import math
import types

import cv2
import numpy as np
import pytest
import torch

from tests.fixtures.reference_code import reference_root, stub_module, stub_packages
from uvc_bench.metrics import MetricsConfig, Scorer
from uvc_bench.metrics.dims import motion as motion_dim
from uvc_bench.metrics.dims.motion import AMTMotionSmoothness, amt_pairs_per_forward
from uvc_bench.metrics.formulas import amt_scale
from uvc_bench.metrics.layout import ENTRIES
from uvc_bench.metrics.nets.amt import AMTS, AMTSConfig, UnusableWeightsError, load_amt_s
from uvc_bench.metrics.preprocess import pad_replicate, unpad
from uvc_data.errors import BadInputError, MissingWeightsError

AMT = "vbench.third_party.amt"


@pytest.fixture(scope="module")
def ref():
    """The reference modules: AMT-S Model, utils.utils (InputPadder, img2tensor, tensor2img), VBench's
    motion_smoothness module, and the network params of cfgs/AMT-S.yaml."""
    import yaml

    root = reference_root()
    stub_packages("vbench", "vbench.third_party", AMT, f"{AMT}.networks", f"{AMT}.networks.blocks", f"{AMT}.utils")
    stub_module("imageio", imread=None, imwrite=None)  # utils.utils imports it for file I/O we never call
    stub_module("omegaconf", OmegaConf=None)  # only MotionSmoothness.load_model uses it; we load as it does
    stub_module("vbench.utils", load_dimension_info=None)  # imports torchvision and decord
    params = yaml.safe_load((root / "vbench/third_party/amt/cfgs/AMT-S.yaml").read_text())["network"]["params"]
    return types.SimpleNamespace(
        Model=importlib.import_module(f"{AMT}.networks.AMT-S").Model,
        utils=importlib.import_module(f"{AMT}.utils.utils"),
        vbench_ms=importlib.import_module("vbench.motion_smoothness"),
        params=params,
    )


@pytest.fixture(scope="module")
def checkpoint(ref, tmp_path_factory):
    """Seeded random AMT-S weights in the official container ({"state_dict": ...}), laid out in a weights dir."""
    torch.manual_seed(0)
    model = ref.Model(**ref.params)
    weights_dir = tmp_path_factory.mktemp("weights")
    path = weights_dir / ENTRIES["amt_s"].relpath
    path.parent.mkdir(parents=True)
    torch.save({"state_dict": model.state_dict()}, path)
    return path


def oracle_from(ref, path):
    """VBench's MotionSmoothness.load_model, minus OmegaConf: build from the yaml params, load ckpt['state_dict']."""
    model = ref.Model(**ref.params)
    model.load_state_dict(torch.load(path, map_location="cpu")["state_dict"])
    return model.eval()


def test_config_defaults_are_vbench_yaml(ref):
    cfg = AMTSConfig()
    assert ref.params == {"corr_radius": cfg.corr_radius, "corr_lvls": cfg.corr_levels, "num_flows": cfg.num_flows}


def test_layout_matches_reference(ref):
    ours = {k: tuple(v.shape) for k, v in AMTS().state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in ref.Model(**ref.params).state_dict().items()}
    assert list(ours) == list(theirs) and ours == theirs


@pytest.mark.parametrize("batch,height,width,scale", [(2, 128, 192, 1.0),  # no padding
                                                      (1, 130, 200, 1.0),  # padded to 144×208
                                                      (1, 250, 390, 0.5)])  # divisor 32: 256×416, net at 128×208
def test_parity_on_random_weights(ref, checkpoint, batch, height, width, scale):
    ours, oracle = load_amt_s(checkpoint), oracle_from(ref, checkpoint)
    g = torch.Generator().manual_seed(height)
    img0, img1 = torch.rand(batch, 3, height, width, generator=g), torch.rand(batch, 3, height, width, generator=g)
    embt = torch.full((batch, 1, 1, 1), 0.5)
    divisor = int(16 / scale)
    padder = ref.utils.InputPadder(img0.shape, divisor)
    (p0, pads), (p1, _) = pad_replicate(img0, divisor), pad_replicate(img1, divisor)
    assert torch.equal(p0, padder.pad(img0)) and torch.equal(p1, padder.pad(img1))
    with torch.no_grad():
        expected = padder.unpad(oracle(*padder.pad(img0, img1), embt, scale_factor=scale, eval=True)["imgt_pred"])
    got = unpad(ours(p0, p1, embt, scale_factor=scale), pads)
    assert got.shape == (batch, 3, height, width) and expected.std() > 0.05
    print(f"AMT-S {batch}×3×{height}×{width} scale {scale}: max abs diff {(got - expected).abs().max().item():.3g}")
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_too_small_for_the_correlation_pyramid_is_refused(checkpoint):
    # at 64×96 the coarsest correlation level is 1×1 and the reference returns NaN (it divides by W − 1 = 0)
    x = torch.rand(1, 3, 64, 96)
    with pytest.raises(BadInputError, match="at least 128×128"):
        load_amt_s(checkpoint)(x, x, torch.full((1, 1, 1, 1), 0.5))


def test_loader_formats_and_errors(checkpoint, tmp_path):
    from safetensors.torch import save_file

    state = torch.load(checkpoint, weights_only=True)["state_dict"]
    bare, st = tmp_path / "bare.pth", tmp_path / "amt-s.safetensors"
    torch.save(state, bare)
    save_file(state, str(st))
    for p in (checkpoint, bare, st):
        model = load_amt_s(p)
        assert not model.training and all(torch.equal(v, state[k]) for k, v in model.state_dict().items())

    with pytest.raises(MissingWeightsError, match="AMT-S") as missing:
        load_amt_s(tmp_path / "absent.pth")
    assert str(tmp_path / "absent.pth") in str(missing.value)

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(UnusableWeightsError, match="cannot be read") as bad:
        load_amt_s(garbage)
    assert str(garbage) in str(bad.value)

    wrong = dict(state)
    del wrong["comb_block.0.weight"]
    wrong["head.weight"] = torch.zeros(1)
    torch.save({"state_dict": wrong}, tmp_path / "wrong.pth")
    with pytest.raises(UnusableWeightsError, match=r"missing keys: comb_block.0.weight; "
                                                   r"unexpected keys: head.weight"):
        load_amt_s(tmp_path / "wrong.pth")
    with pytest.raises(UnusableWeightsError, match="shape mismatches"):
        load_amt_s(checkpoint, AMTSConfig(num_flows=2))


def vbench_motion(ref, checkpoint, vram_bytes: int | None):
    """VBench's MotionSmoothness with its CPU initialisation (vram_bytes None) or its 'cuda' one (anchors as in
    MotionSmoothness.initialization, total GPU memory `vram_bytes`), model loaded as load_model does."""
    ms = ref.vbench_ms.MotionSmoothness.__new__(ref.vbench_ms.MotionSmoothness)
    ms.device, ms.niters = "cpu", 1
    ms.initialization()
    if vram_bytes is not None:
        ms.anchor_resolution, ms.anchor_memory, ms.anchor_memory_bias = 1024 * 512, 1500 * 1024**2, 2500 * 1024**2
        ms.vram_avail = vram_bytes
    ms.model = oracle_from(ref, checkpoint)
    return ms


def vbench_scale(ms, height: int, width: int) -> float:
    """The scale line of MotionSmoothness.motion_score, on `ms`'s anchors."""
    s = ms.anchor_resolution / (height * width) * np.sqrt((ms.vram_avail - ms.anchor_memory_bias) / ms.anchor_memory)
    s = 1 if s > 1 else s
    return 1 / np.floor(1 / np.sqrt(s) * 16) * 16


def moving_texture(num: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """(num, H, W, 3) uint8: a smooth random texture drifting 3 px right and 1 px down per frame."""
    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.uniform(0, 255, (height + 64, width + 64, 3)).astype(np.float32), (0, 0), 4)
    big = cv2.normalize(big, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return np.stack([big[32 - t : 32 - t + height, 32 - 3 * t : 32 - 3 * t + width] for t in range(num)])


def write_png_folder(frames: np.ndarray, folder) -> str:
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:03d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    return str(folder)


def test_vbench_cpu_scale_is_ours(ref, checkpoint):
    ms = vbench_motion(ref, checkpoint, None)  # CPU: VBench never scales below 8192×8192 px
    for h, w in ((480, 832), (1080, 1920), (2160, 3840)):
        assert vbench_scale(ms, h, w) == amt_scale(h, w, None) == 1.0
    for vram in (8 * 1024**3, 24 * 1024**3, 80 * 1024**3, 2500 * 1024**2 + 4 * 1024**2):
        ms = vbench_motion(ref, checkpoint, vram)
        for h, w in ((256, 384), (480, 832), (1080, 1920), (2160, 3840)):
            assert amt_scale(h, w, vram) == pytest.approx(vbench_scale(ms, h, w), rel=1e-12)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_motion_smoothness_matches_vbench(ref, checkpoint, tmp_path, batch_size):
    frames = moving_texture(7, 120, 136)  # padded to 128×144; 3 interpolated frames
    expected = vbench_motion(ref, checkpoint, None).motion_score(write_png_folder(frames, tmp_path / "v"))
    scorer = Scorer(MetricsConfig(weights_dir=str(checkpoint.parents[1]), dimensions=["motion_smoothness"],
                                  backend={"motion_smoothness": "reference"}, batch_size=batch_size))
    assert scorer.backends == {"motion_smoothness": "amt_s"}  # built by AMTMotionSmoothness.from_config
    got = scorer.score_video(frames, 16.0)["motion_smoothness"]
    assert got.backend == "amt_s" and 0.0 < got.value < 1.0
    print(f"motion_smoothness batch {batch_size}: ours {got.value!r} VBench {expected!r}")
    if batch_size == 1:  # VBench's own order of operations, pair by pair: identical
        assert got.value == pytest.approx(expected, abs=1e-12)
    else:  # batched convolutions differ in float rounding, which may flip a rare uint8 truncation
        assert got.value == pytest.approx(expected, abs=1e-5)


def test_motion_smoothness_matches_vbench_when_memory_scales(ref, checkpoint, tmp_path, monkeypatch):
    frames = moving_texture(5, 250, 380, seed=1)
    vram = 2500 * 1024**2 + 3 * 1024**2  # 3 MiB over VBench's bias: scale 0.5 at 250×380
    ms = vbench_motion(ref, checkpoint, vram)
    assert vbench_scale(ms, 250, 380) == amt_scale(250, 380, vram) == 0.5
    expected = ms.motion_score(write_png_folder(frames, tmp_path / "v"))
    # our interpolator reads the GPU memory only on a CUDA device: give it the same figure
    monkeypatch.setattr(motion_dim, "amt_scale", lambda h, w, _vram: amt_scale(h, w, vram))
    cfg = MetricsConfig(weights_dir=str(checkpoint.parents[1]), batch_size=1)
    got = AMTMotionSmoothness.from_config(cfg).score(frames, 16.0).value
    print(f"motion_smoothness at scale 0.5: ours {got!r} VBench {expected!r}")
    assert got == pytest.approx(expected, abs=1e-12)


def test_unusable_checkpoint_is_reported_not_fatal(tmp_path):
    p = tmp_path / ENTRIES["amt_s"].relpath
    p.parent.mkdir(parents=True)
    p.write_bytes(b"truncated download")
    ref_only = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=["motion_smoothness"],
                                    backend={"motion_smoothness": "reference"}))
    assert ref_only.backends == {} and str(p) in ref_only.missing["motion_smoothness"]
    auto = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=["motion_smoothness"],
                                backend={"motion_smoothness": "auto"}))
    assert auto.backends == {"motion_smoothness": "dis_interp_offline"}
    assert "unusable weights" in auto.fallbacks["motion_smoothness"]


def test_small_video_is_a_clear_error(checkpoint):
    cfg = MetricsConfig(weights_dir=str(checkpoint.parents[1]))
    with pytest.raises(BadInputError, match="multiples of 16 and at least 128×128"):
        AMTMotionSmoothness.from_config(cfg).score(moving_texture(3, 64, 96), 8.0)
    assert math.isfinite(AMTMotionSmoothness.from_config(cfg).score(moving_texture(3, 113, 113), 8.0).value)


def test_pairs_per_forward_fit_the_correlation_budget():
    assert amt_pairs_per_forward(16, 480, 832) == 2  # 2 × 0.21 GB pyramids per pair, 1 GiB budget
    assert amt_pairs_per_forward(16, 720, 1280) == 1  # ~2.6 GB per pair: one at a time, never zero
    assert amt_pairs_per_forward(3, 128, 144) == 3
