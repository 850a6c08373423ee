"""Native MUSIQ (uvc_bench.metrics.nets.musiq) against pyiqa 0.1.16's MUSIQ as VBench builds it (oracle code in
.venv/reference, imported with torchvision stubbed): layout, multi-scale tokens, parity on seeded random weights saved
in the official container, the loader's errors, and imaging_quality end to end vs VBench's per-video steps."""
from __future__ import annotations

import contextlib
import copy
import sys
import types

import numpy as np
import pytest
import torch

from tests.fixtures.reference_code import stub_module, stub_packages
from uvc_bench.metrics.nets.musiq import MUSIQ, MusiqCheckpointError, MusiqConfig, load_musiq
from uvc_bench.metrics.nets.musiq.patches import hashed_spatial_positions, multiscale_patches
from uvc_data.errors import MissingWeightsError

CKPT = "musiq/musiq_spaq_ckpt-358bb6af.pth"  # uvc_bench.metrics.layout's entry for musiq_spaq
TINY = dict(hidden_size=64, mlp_dim=96, num_heads=2, num_layers=2)  # loader tests: small files


@contextlib.contextmanager
def _oracle_imports():
    """Stub pyiqa's package __init__s and torchvision for the import only, then drop every module the import added,
    so no later test sees a fake torchvision / pyiqa (the oracle objects keep their own module globals)."""
    before = set(sys.modules)
    stub_packages("pyiqa", "pyiqa.archs", "pyiqa.data", "pyiqa.utils")
    transforms = types.ModuleType("torchvision.transforms")  # arch_util binds it as T; MUSIQ never calls it
    stub_module("torchvision", transforms=transforms)
    sys.modules["torchvision.transforms"] = transforms
    stub_module("pyiqa.utils.download_util", load_file_from_url=None)  # only reached for http(s) paths
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            if name.split(".")[0] in ("pyiqa", "torchvision"):
                del sys.modules[name]


@pytest.fixture(scope="module")
def oracle():
    with _oracle_imports():
        from pyiqa.archs import musiq_arch
        from pyiqa.data import multiscale_trans_util
    return types.SimpleNamespace(MUSIQ=musiq_arch.MUSIQ, mst=multiscale_trans_util)


def random_state(model: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Seeded random values for every tensor, scaled so each part (norms, embeddings, CLS, head) moves the score."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in model.state_dict().items():
        r = torch.randn(v.shape, generator=g)
        if k.endswith("bias"):
            r = 0.1 * r
        elif ("gn" in k or "norm" in k) and k.endswith("weight"):
            r = 1 + 0.1 * r
        elif k.endswith(("position_emb", "scale_emb", "cls")):
            r = 0.5 * r
        elif v.ndim == 2:  # linear: unit-variance outputs
            r = r / v.shape[1] ** 0.5
        out[k] = r
    return out


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory, oracle):
    """A weights folder in the documented layout holding a full-size random MUSIQ-SPAQ checkpoint (a plain state
    dict, as pyiqa's load_pretrained_network reads it for MUSIQ)."""
    root = tmp_path_factory.mktemp("weights")
    (root / "musiq").mkdir()
    torch.save(random_state(MUSIQ(), seed=0), root / CKPT)
    return root


@pytest.fixture(scope="module")
def models(oracle, weights_dir):
    """(ours via load_musiq, pyiqa's built as VBench builds it) from the same checkpoint file, loaded once."""
    path = str(weights_dir / CKPT)
    ref = oracle.MUSIQ(pretrained_model_path=path)
    ref.training = False  # what vbench/imaging_quality.py does (not .eval())
    return load_musiq(path), ref


def test_config_as_vbench_builds_it(oracle):
    """VBench: MUSIQ(pretrained_model_path=path) — num_class stays 1 and every data option is pyiqa's default."""
    ref = oracle.MUSIQ(pretrained=False)
    assert isinstance(ref.head, torch.nn.Linear) and ref.head.out_features == MusiqConfig().num_class == 1
    cfg = MusiqConfig()
    assert ref.data_preprocess_opts == {
        "patch_size": cfg.patch_size, "patch_stride": cfg.patch_size, "hse_grid_size": cfg.spatial_pos_grid_size,
        "longer_side_lengths": list(cfg.longer_side_lengths),
        "max_seq_len_from_original_res": cfg.max_seq_len_from_original_res}


@pytest.mark.parametrize("kwargs", [{}, dict(num_class=10, num_layers=2)])
def test_layout_matches_pyiqa(oracle, kwargs):
    ref = {k: tuple(v.shape) for k, v in oracle.MUSIQ(pretrained=False, **kwargs).state_dict().items()}
    ours = {k: tuple(v.shape) for k, v in MUSIQ(MusiqConfig(**kwargs)).state_dict().items()}
    assert list(ours) == list(ref) and ours == ref


def test_hashed_positions_match_pyiqa(oracle):
    for count_h in range(1, 41):
        for count_w in (1, 3, 7, 10, 12, 13, 29, 40):
            ref = oracle.mst.get_hashed_spatial_pos_emb_index(10, count_h, count_w).reshape(-1).long()
            assert torch.equal(hashed_spatial_positions(10, count_h, count_w), ref), (count_h, count_w)


@pytest.mark.parametrize("size", [(96, 128), (40, 150), (130, 33), (32, 32), (331, 17)])
@pytest.mark.parametrize("original", [-1, None, 4])
def test_multiscale_tokens_match_pyiqa(oracle, size, original):
    """Patches, hashed positions, scale ids and masks, including the padding to ⌈L/32⌉² and the cut to 4 tokens."""
    x = torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(1)) * 2 - 1
    ref = oracle.mst.get_multiscale_patches(x, 32, 32, 10, [384, 224], original)  # (N, L, 3·32² + 3)
    tok = multiscale_patches(x, MusiqConfig(longer_side_lengths=(384, 224), max_seq_len_from_original_res=original))
    n, length = tok.mask.shape
    assert ref.shape == (n, length, 3 * 32 * 32 + 3)
    assert torch.equal(tok.patches.reshape(n, length, -1), ref[..., :-3])
    assert torch.equal(tok.spatial, ref[..., -3].long()) and torch.equal(tok.scale, ref[..., -2].long())
    assert torch.equal(tok.mask, ref[..., -1].bool())
    assert tok.mask.sum(1).tolist() == [int(ref[0, :, -1].sum())] * 2
    resized = tok.mask[:, : 49 + 144]  # a square fills ⌈L/32⌉² exactly; other aspects leave padding
    assert bool(resized.all()) == (size[0] == size[1])


@pytest.mark.parametrize("shape", [(1, 3, 96, 128), (2, 3, 40, 150), (1, 3, 130, 33)])
def test_parity_with_pyiqa_on_the_official_container(models, shape):
    """Both load the same random checkpoint file (ours strictly via load_musiq; pyiqa via its constructor as VBench
    calls it); scores agree in float32. 40×150 hashes a 2×5 / 2×7 / 4×12 patch grid onto the 10×10 embedding grid
    and pads 14 of 49 and 48 of 144 tokens."""
    ours, ref = models
    x = torch.rand(shape, generator=torch.Generator().manual_seed(sum(shape)))
    with torch.no_grad():
        expected = ref(x).reshape(-1)
        got = ours(x)
    assert got.shape == (shape[0],)
    print(f"MUSIQ parity {shape}: max |Δ| = {(got - expected).abs().max().item():.3g}, scores {got.tolist()}")
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_positions_and_scales_move_the_score(models):
    """Guards the parity test: the random checkpoint's hashed position and scale embeddings change the output."""
    model = copy.deepcopy(models[0])
    x = torch.rand(1, 3, 40, 150, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        base = model(x)
        model.transformer_encoder.posembed_input.position_emb.copy_(
            model.transformer_encoder.posembed_input.position_emb.flip(1))
        moved = model(x)
        model.transformer_encoder.scaleembed_input.scale_emb.copy_(
            model.transformer_encoder.scaleembed_input.scale_emb.flip(0))
        rescaled = model(x)
    assert (base - moved).abs().item() > 1e-3 and (moved - rescaled).abs().item() > 1e-3


def test_distribution_head_parity(oracle):
    """num_class > 1 (AVA-style): softmax over classes, score Σ c·p_c — same as pyiqa."""
    cfg = MusiqConfig(num_class=10, num_layers=2)
    ours = MUSIQ(cfg).eval()
    ref = oracle.MUSIQ(num_class=10, num_layers=2, pretrained=False)
    state = random_state(ours, seed=5)
    ours.load_state_dict(state)
    ref.load_state_dict(state)
    ref.training = False
    x = torch.rand(2, 3, 70, 90, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x).reshape(-1), rtol=1e-5, atol=1e-5)
        assert 1 <= ours(x).min() and ours(x).max() <= 10


def _tiny_state(seed=0):
    cfg = MusiqConfig(**TINY)
    return cfg, random_state(MUSIQ(cfg), seed)


def test_loader_accepts_module_prefix_and_safetensors(tmp_path):
    from safetensors.torch import save_file

    cfg, state = _tiny_state()
    torch.save({f"module.{k}": v for k, v in state.items()}, tmp_path / "dp.pth")
    save_file(state, tmp_path / "m.safetensors")
    x = torch.rand(1, 3, 50, 70, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = load_musiq(tmp_path / "dp.pth", cfg)(x)
        b = load_musiq(tmp_path / "m.safetensors", cfg)(x)
        c = MUSIQ(cfg).eval()
        c.load_state_dict(state)
        assert torch.equal(a, c(x)) and torch.equal(b, c(x))


def test_loader_errors(tmp_path):
    cfg, state = _tiny_state()
    with pytest.raises(MissingWeightsError, match="nope.pth"):
        load_musiq(tmp_path / "nope.pth", cfg)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(MusiqCheckpointError, match="junk.pth"):
        load_musiq(tmp_path / "junk.pth", cfg)
    torch.save({"params": state}, tmp_path / "wrapped.pth")  # pyiqa's MUSIQ passes no weight_keys: not supported
    with pytest.raises(MusiqCheckpointError, match="wrapped.pth.*flat dict of tensors, found \\['params'\\]"):
        load_musiq(tmp_path / "wrapped.pth", cfg)
    wrong = {k: v for k, v in state.items() if not k.startswith("head")}
    wrong["head.0.weight"], wrong["head.0.bias"] = torch.zeros(10, 64), torch.zeros(10)
    torch.save(wrong, tmp_path / "ava.pth")
    with pytest.raises(MusiqCheckpointError, match=r"ava.pth.*num_class=10.*missing keys: head.weight, "
                                                   r"head.bias; unexpected keys: head.0.weight"):
        load_musiq(tmp_path / "ava.pth", cfg)
    torch.save(state, tmp_path / "tiny.pth")
    with pytest.raises(MusiqCheckpointError, match="tiny.pth.*shape mismatches.*embedding.weight"):
        load_musiq(tmp_path / "tiny.pth")  # the default (VBench) architecture


def _frames(t=3, h=48, w=160):
    import cv2

    rng = np.random.default_rng(7)
    return np.stack([cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 1.2)
                     for _ in range(t)])


def test_imaging_quality_end_to_end_matches_vbench_steps(models, weights_dir):
    """ImagingQuality.from_config (batch 2 over 3 frames) vs vbench/imaging_quality.py's technical_quality per-video
    steps with pyiqa's model: frames as (T, C, H, W) uint8, 'longer' mode (no resize at ≤ 512), /255, one frame at a
    time, Python-float sum / T."""
    from uvc_bench.metrics.api import MetricsConfig
    from uvc_bench.metrics.dims.imaging import ImagingQuality

    frames = _frames()
    dim = ImagingQuality.from_config(MetricsConfig(weights_dir=str(weights_dir), batch_size=2))
    got = dim.score(frames, fps=8.0)

    model = models[1]  # pyiqa's MUSIQ(pretrained_model_path=<the same file>), training = False
    images = torch.from_numpy(frames).permute(0, 3, 1, 2) / 255.0
    acc = 0.0
    with torch.no_grad():
        for i in range(len(images)):
            acc += float(model(images[i].unsqueeze(0)))
    expected = acc / len(images)
    print(f"imaging_quality end to end: ours {got.value!r} vs VBench steps {expected!r}")
    assert got.backend == "musiq_spaq"
    assert got.value == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_frames_per_forward_one_on_cpu_and_bounded_on_gpu(weights_dir, monkeypatch):
    from uvc_bench.metrics.api import MetricsConfig
    from uvc_bench.metrics.dims import imaging

    assert imaging.musiq_stem_bytes(295, 512) == (49 + 144 + 10 * 16) * 64 * 16 * 16 * 4  # 353 tokens
    assert imaging.musiq_frames_per_forward(16, 295, 512, "cpu") == 1
    per_frame = 4 * imaging.musiq_stem_bytes(295, 512)
    assert imaging.musiq_frames_per_forward(16, 295, 512, "cuda") == imaging.MUSIQ_STEM_BUDGET_BYTES // per_frame
    assert imaging.musiq_frames_per_forward(2, 295, 512, "cuda:0") == 2
    assert imaging.musiq_frames_per_forward(16, 8192, 8192, "cuda") == 1
    # a batched forward (as on a GPU) gives the per-frame result
    frames = _frames(t=5)
    dim = imaging.ImagingQuality.from_config(MetricsConfig(weights_dir=str(weights_dir), batch_size=3))
    one = dim.score(frames, fps=8.0).value
    monkeypatch.setattr(imaging, "musiq_frames_per_forward", lambda b, h, w, d: b)
    assert dim.score(frames, fps=8.0).value == pytest.approx(one, rel=1e-5, abs=1e-5)


def test_scorer_reports_only_the_missing_weight(tmp_path):
    from uvc_bench.metrics.api import MetricsConfig, Scorer

    s = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=["imaging_quality"],
                             backend={"imaging_quality": "reference"}))
    assert "imaging_quality" in s.missing and CKPT in s.missing["imaging_quality"]
    assert "pip install" not in s.missing["imaging_quality"]  # no code dependency left, only the weight file
