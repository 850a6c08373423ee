"""VBench's arithmetic, exactly: 480×832 frames through each dimension's preprocessing against a float reference
written from VBench's code with torch only (float64), DINO's position-embedding interpolation as DINO's hub code does
it, and the CLIP dtype option. What still differs is stated in each test (and in docs/metrics.md)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from uvc_bench.metrics.backbones import dino_interpolate_pos_encoding, load_clip_image, load_dino
from uvc_bench.metrics.preprocess import clip_transform, dino_transform, musiq_transform, to_nchw

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
CLIP = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))


@pytest.fixture(scope="module")
def frames():
    """Four 480×832 frames with hard edges (where bicubic overshoots) and noise."""
    rng = np.random.default_rng(0)
    f = rng.integers(0, 256, (4, 480, 832, 3), dtype=np.uint8)
    f[:, :, 400:] = 255
    f[:, 200:260] = 0
    return f


# ---- the reference: VBench's load_video + torchvision transforms on tensors, in float64, torch only -------------
DTYPE = {"value": torch.float64}


def _vbench_tensor(frames):
    """vbench.utils.load_video: `torch.Tensor(frames)` (float32) permuted to (T, C, H, W) — no uint8 from here on.
    (Run here in float32, as VBench, or in float64 to bound float32's rounding.)"""
    return torch.Tensor(frames).permute(0, 3, 1, 2).to(DTYPE["value"])


def _tv_resize_short(x, size, mode):
    """torchvision Resize(int) on a tensor: shorter side → size, longer int(size·long/short); interpolate with
    align_corners False, antialias False."""
    h, w = x.shape[-2:]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    out = (new_long, new_short) if w <= h else (new_short, new_long)
    return F.interpolate(x, size=out, mode=mode, align_corners=False, antialias=False)


def _tv_center_crop(x, size):
    h, w = x.shape[-2:]
    top, left = int(round((h - size) / 2.0)), int(round((w - size) / 2.0))
    return x[..., top : top + size, left : left + size]


def _tv_normalize(x, mean_std):
    mean, std = (torch.tensor(v, dtype=x.dtype).view(1, 3, 1, 1) for v in mean_std)
    return (x - mean) / std


def ref_dino(frames):  # vbench.utils.dino_transform(224)
    return _tv_normalize(_tv_resize_short(_vbench_tensor(frames), 224, "bilinear") / 255.0, IMAGENET)


def ref_clip(frames):  # vbench.utils.clip_transform(224)
    x = _tv_center_crop(_tv_resize_short(_vbench_tensor(frames), 224, "bicubic"), 224)
    return _tv_normalize(x / 255.0, CLIP)


def ref_musiq(frames):  # vbench.imaging_quality.transform(images, 'longer')
    x = _vbench_tensor(frames)
    h, w = x.shape[-2:]
    scale = 512.0 / max(h, w)
    return F.interpolate(x, size=(int(scale * h), int(scale * w)), mode="bilinear", align_corners=False,
                         antialias=False) / 255.0


def _uint8_rounded(frames, size, mode):
    """The previous path: resize, then round and clamp back to uint8 (what VBench does NOT do)."""
    y = F.interpolate(to_nchw(frames).float(), size=size, mode=mode, align_corners=False, antialias=False)
    return torch.round(y.clamp(0, 255))


@pytest.mark.parametrize("ours, ref", [(dino_transform, ref_dino), (clip_transform, ref_clip),
                                       (musiq_transform, ref_musiq)], ids=["dino", "clip", "musiq"])
def test_preprocessing_matches_vbench_float_reference(frames, ours, ref):
    got = ours(to_nchw(frames))
    DTYPE["value"] = torch.float32
    try:
        exact = ref(frames)
    finally:
        DTYPE["value"] = torch.float64
    assert got.dtype == torch.float32 and torch.equal(got, exact)  # VBench's float32 arithmetic, bit for bit
    # against float64: float32's rounding inside interpolate, ≤ 5e-4 in normalised units (≈ 0.03 grey levels)
    assert (got.double() - ref(frames)).abs().max().item() < 5e-4


def test_uint8_rounding_was_a_real_difference(frames):
    """Stated difference of the old path (uint8 round + clamp after the resize), in normalised CLIP units."""
    old = _tv_normalize(_tv_center_crop(_uint8_rounded(frames, (224, 388), "bicubic"), 224).double() / 255.0, CLIP)
    diff = (old - ref_clip(frames)).abs()
    assert diff.max().item() > 0.05  # clamping the bicubic overshoot at hard edges
    assert diff.mean().item() > 1e-3


def _dino_hub_reference(pos_embed, patch, x_shape):
    """DINO's vision_transformer.py interpolate_pos_encoding, as its hub code computes it (prepare_tokens names the
    tensor's (H, W) as (w, h))."""
    _, _, w, h = x_shape
    n = pos_embed.shape[1] - 1
    dim = pos_embed.shape[-1]
    w0, h0 = w // patch + 0.1, h // patch + 0.1
    grid = F.interpolate(pos_embed[:, 1:].reshape(1, int(math.sqrt(n)), int(math.sqrt(n)), dim).permute(0, 3, 1, 2),
                         scale_factor=(w0 / math.sqrt(n), h0 / math.sqrt(n)), mode="bicubic")
    assert int(w0) == grid.shape[-2] and int(h0) == grid.shape[-1]
    return torch.cat((pos_embed[:, :1], grid.permute(0, 2, 3, 1).reshape(1, -1, dim)), dim=1)


def test_dino_position_interpolation_as_dino_hub_code():
    torch.manual_seed(0)
    pos = torch.randn(1, 1 + 14 * 14, 8)
    ours = dino_interpolate_pos_encoding(pos, 16, 224, 388)
    assert ours.shape == (1, 1 + 14 * 24, 8)
    assert torch.equal(ours, _dino_hub_reference(pos, 16, (1, 3, 224, 388)))
    assert torch.equal(dino_interpolate_pos_encoding(pos, 16, 224, 224), pos)
    # transformers' ViT resizes to size=(14, 24) instead of scale factors with the +0.1 offset: other positions
    tf = F.interpolate(pos[:, 1:].reshape(1, 14, 14, 8).permute(0, 3, 1, 2), size=(14, 24), mode="bicubic",
                       align_corners=False).permute(0, 2, 3, 1).reshape(1, -1, 8)
    assert (tf - ours[:, 1:]).abs().max().item() > 1e-3


def test_load_dino_uses_dino_interpolation(tiny_weights, frames):
    enc = load_dino(tiny_weights / "dino_vitb16", batch_size=2)
    from transformers import ViTModel

    plain = ViTModel.from_pretrained(str(tiny_weights / "dino_vitb16"), add_pooling_layer=False).eval()
    x = dino_transform(to_nchw(frames[:2]))
    with torch.no_grad():
        emb = plain.embeddings.patch_embeddings(x)
        emb = torch.cat((plain.embeddings.cls_token.expand(2, -1, -1), emb), dim=1)
        emb = emb + _dino_hub_reference(plain.embeddings.position_embeddings, 16, x.shape)
        for layer in plain.layers:
            emb = layer(emb, None)
        want = plain.layernorm(emb)[:, 0]
        default = plain(pixel_values=x, interpolate_pos_encoding=True).last_hidden_state[:, 0]
    want = F.normalize(want, dim=-1).double().numpy()
    got = enc(frames[:2])
    np.testing.assert_allclose(got, want, atol=1e-7)
    # transformers' own interpolation gives other features on this non-square input
    assert np.abs(got - F.normalize(default, dim=-1).double().numpy()).max() > 1e-6  # small: random tiny weights


def test_clip_dtype_option(tiny_weights):
    from uvc_bench.metrics.api import MetricsConfig, resolve_clip_dtype

    assert resolve_clip_dtype("auto", "cuda:0") == "float16" and resolve_clip_dtype("auto", "cpu") == "float32"
    assert resolve_clip_dtype("float16", "cpu") == "float16"
    enc = load_clip_image(tiny_weights / "clip_vitb32", dtype="float16")
    assert enc.dtype == torch.float16
    with pytest.raises(Exception, match="clip_dtype"):
        MetricsConfig(clip_dtype="int8").validate()
