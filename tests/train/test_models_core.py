"""Denoiser, loading, codecs, text encoder and VACE context on tiny real diffusers/transformers models."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from uvc_data.errors import BadInputError, ConfigError, MissingWeightsError
from uvc_data.vcu import build_vcu
from vdot_train.models.codecs import PixelCodec, WanVAECodec
from vdot_train.models.denoiser import Denoiser
from vdot_train.models.text_encoder import TextEncoder
from vdot_train.models.tiny import build_tiny_vae
from vdot_train.models.vace_context import build_context, drop_reference_frames, fold_mask, latent_shape

from .conftest import make_sample


def test_missing_weights_names_what_where_how(tmp_path):
    with pytest.raises(MissingWeightsError) as e:
        Denoiser.from_dir(tmp_path / "nowhere", "vace")
    msg = str(e.value)
    assert "VACE transformer" in msg and str(tmp_path / "nowhere" / "transformer") in msg and "model.path" in msg
    with pytest.raises(MissingWeightsError, match="text encoder"):
        TextEncoder.from_dir(tmp_path)


def test_kind_mismatch_is_rejected(tiny_t2v_dir):
    with pytest.raises(ConfigError, match="model.kind"):
        Denoiser.from_dir(tiny_t2v_dir, "vace")


def test_denoiser_velocity_features_and_temb(tiny_vace_dir):
    den = Denoiser.from_dir(tiny_vace_dir, "vace")
    assert den.kind == "vace" and den.num_blocks == 4 and den.context_channels == 28
    x = torch.randn(2, 12, 3, 8, 8)
    ctx = torch.randn(2, 28, 3, 8, 8)
    text = torch.randn(2, 16, 32)
    out = den(x, torch.tensor([500.0, 100.0]), text, ctx, return_features=(1, 3))
    assert out.velocity.shape == x.shape
    assert [f.shape for f in out.features] == [torch.Size([2, 3 * 4 * 4, 32])] * 2
    assert out.temb.shape == (2, 32)
    # features are the real block outputs: a different timestep changes them, the hooks are gone afterwards
    out2 = den(x, torch.tensor([900.0, 100.0]), text, ctx, return_features=(1, 3))
    assert not torch.allclose(out.features[0][0], out2.features[0][0])
    assert torch.allclose(out.features[0][1], out2.features[0][1], atol=1e-5)
    assert all(len(b._forward_hooks) == 0 for b in den.transformer.blocks)
    # context scale 0 removes the VACE hints: output changes with the scale
    v0 = den(x, torch.tensor([500.0, 100.0]), text, ctx, context_scale=0.0).velocity
    assert not torch.allclose(v0, out.velocity)
    with pytest.raises(BadInputError, match="context"):
        den(x, torch.tensor([1.0, 1.0]), text)
    with pytest.raises(ConfigError, match="disc.blocks"):
        den(x, torch.tensor([1.0, 1.0]), text, ctx, return_features=(9,))


def test_t2v_denoiser_gradient_checkpointing_same_grads(tiny_t2v_dir):
    den = Denoiser.from_dir(tiny_t2v_dir, "t2v")
    x = torch.randn(1, 12, 2, 8, 8, requires_grad=True)
    text = torch.randn(1, 16, 32)
    den(x, torch.tensor([300.0]), text).velocity.square().sum().backward()
    g_plain = x.grad.clone()
    x.grad = None
    den.enable_gradient_checkpointing()
    den.train()
    den(x, torch.tensor([300.0]), text).velocity.square().sum().backward()
    assert torch.allclose(g_plain, x.grad, atol=1e-5)


def test_pixel_codec_is_exactly_invertible():
    c = PixelCodec(2)
    v = torch.rand(2, 3, 3, 8, 12) * 2 - 1
    z = c.encode(v)
    assert z.shape == (2, 12, 3, 4, 6)
    assert torch.equal(c.decode(z), v)
    # space-to-depth: channel (c, i, j) holds pixel (2y+i, 2x+j)
    assert z[0, 1 * 4 + 1 * 2 + 0, 0, 1, 2] == v[0, 1, 0, 3, 4]
    with pytest.raises(ConfigError, match="codec.patch"):
        c.encode(torch.zeros(1, 3, 1, 5, 4))


def test_wan_vae_codec_normalises_with_mean_std(tmp_path):
    vae = build_tiny_vae(z_dim=4)
    vae.register_to_config(latents_mean=[0.5, 0.0, 0.0, -0.5], latents_std=[2.0, 1.0, 1.0, 0.5])
    vae.save_pretrained(tmp_path / "vae")
    codec = WanVAECodec.from_dir(tmp_path)
    assert codec.channels == 4 and codec.stride == (4, 8, 8) and codec.latent_frames(9) == 3
    video = torch.rand(1, 3, 5, 16, 16) * 2 - 1
    z = codec.encode(video)
    raw = vae.encode(video).latent_dist.mode()
    mean = torch.tensor([0.5, 0.0, 0.0, -0.5]).view(1, 4, 1, 1, 1)
    std = torch.tensor([2.0, 1.0, 1.0, 0.5]).view(1, 4, 1, 1, 1)
    assert torch.allclose(z, (raw - mean) / std, atol=1e-5)
    assert codec.decode(z).shape == (1, 3, 5, 16, 16)


def test_text_encoder_zero_pads_and_caches(tiny_vace_dir):
    te = TextEncoder.from_dir(tiny_vace_dir, max_length=16)
    e = te.encode(["a cat", "a much longer prompt about a dog", "a cat"])
    assert e.shape == (3, 16, 32)
    assert torch.equal(e[0], e[2])
    n_tokens = len(te.tokenizer("a cat").input_ids)
    assert torch.all(e[0, n_tokens:] == 0) and torch.all(e[0, :n_tokens].abs().sum(-1) > 0)
    assert len(te._cache) == 2


def test_fold_mask_matches_block_layout():
    m = torch.zeros(1, 2, 4, 4)
    m[0, 1, 0, 1] = 1.0  # frame 1, pixel (y=0, x=1): block (0, 0), offset (0, 1)
    f = fold_mask(m, (1, 2, 2), 2)
    assert f.shape == (1, 4, 2, 2, 2)
    assert f[0, 1, 1, 0, 0] == 1.0 and f.sum() == 1.0
    # temporal resampling to fewer latent frames (nearest)
    assert fold_mask(torch.ones(1, 5, 4, 4), (4, 2, 2), 2).shape == (1, 4, 2, 2, 2)


def test_context_layout_inactive_reactive_mask_and_refs():
    codec = PixelCodec(2)
    s = make_sample(0, refs=True)
    vcu = build_vcu("inpainting", s.prompt, s.frames, s.conditions)
    ctx = build_context(codec, [vcu])
    assert ctx.shape == (1, 28, 3, 8, 8)
    frames = torch.from_numpy(vcu.frames).permute(3, 0, 1, 2)[None]
    m = torch.from_numpy(vcu.masks)[None, None]
    assert torch.allclose(codec.decode(ctx[:, :12]), frames * (1 - m))
    assert torch.allclose(codec.decode(ctx[:, 12:24]), frames * m)
    assert torch.equal(ctx[:, 24:], fold_mask(m[:, 0], codec.stride, 3))
    # a reference image: one latent frame prepended, reactive half and mask zero, dropped after sampling
    r2v = build_vcu("r2v", s.prompt, s.frames, s.conditions)
    ctx_r = build_context(codec, [r2v])
    assert ctx_r.shape == (1, 28, 4, 8, 8) and latent_shape(codec, r2v) == (12, 4, 8, 8)
    ref = torch.from_numpy(r2v.refs[0]).permute(2, 0, 1)[None, :, None]
    assert torch.allclose(codec.decode(ctx_r[:, :12, :1]), ref)
    assert torch.all(ctx_r[:, 12:, 0] == 0)
    assert drop_reference_frames(ctx_r, 1).shape[2] == 3


def test_context_rejects_mixed_batches():
    codec = PixelCodec(2)
    a = build_vcu("t2v", "a", None, {}, num_frames=3, size=(16, 16))
    b = build_vcu("t2v", "b", None, {}, num_frames=5, size=(16, 16))
    with pytest.raises(BadInputError, match="batch"):
        build_context(codec, [a, b])
    assert np.all(a.masks == 1)


def test_continuous_mask_splits_frames_binarised_and_keeps_mask_channels_continuous():
    """As the official VACE code: frames split with the mask > 0.5, the mask channels fold the mask as given."""
    codec = PixelCodec(2)
    s = make_sample(1)
    vcu = build_vcu("inpainting", s.prompt, s.frames, s.conditions)
    soft = vcu.masks.astype(np.float32) * 0.7 + 0.1  # continuous in [0.1, 0.8], > 0.5 where the mask was 1
    vcu.masks = soft
    ctx = build_context(codec, [vcu])
    frames = torch.from_numpy(vcu.frames).permute(3, 0, 1, 2)[None]
    hard = torch.from_numpy((soft > 0.5).astype(np.float32))[None, None]
    assert torch.allclose(codec.decode(ctx[:, :12]), frames * (1 - hard))
    assert torch.allclose(codec.decode(ctx[:, 12:24]), frames * hard)
    assert torch.allclose(ctx[:, 24:], fold_mask(torch.from_numpy(soft)[None], codec.stride, 3))
    assert float(ctx[:, 24:].min()) == pytest.approx(0.1)
