import pytest
import torch

from vdot_train.models.disc_heads import DiscriminatorHeads


def _inputs(B=2, N=7, F=24, nb=3, T=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, N, F, generator=g) for _ in range(nb)], torch.randn(B, T, generator=g)


def test_shapes_and_gradients_reach_registers_and_features():
    heads = DiscriminatorHeads(feature_dim=24, num_blocks=3, reg_dim=32, attn_heads=8, time_dim=16)
    feats, temb = _inputs()
    feats = [f.requires_grad_(True) for f in feats]
    logits = heads(feats, temb)
    assert logits.shape == (2,)
    logits.sum().backward()
    for h in heads.heads:
        assert h.register.grad is not None and float(h.register.grad.abs().sum()) > 0
    assert all(float(f.grad.abs().sum()) > 0 for f in feats)


def test_register_init_time_scale_and_defaults():
    heads = DiscriminatorHeads(feature_dim=24)
    assert heads.time_dim == 24 and heads.heads[0].register.shape == (1, 1, 512)
    assert float(heads.heads[0].register.detach().std()) == pytest.approx(0.02, rel=0.25)
    small = DiscriminatorHeads(feature_dim=24, reg_dim=32, time_dim=16, time_scale=10.0)
    small_unscaled = DiscriminatorHeads(feature_dim=24, reg_dim=32, time_dim=16, time_scale=1.0)
    small_unscaled.load_state_dict(small.state_dict())
    feats, temb = _inputs()
    assert not torch.allclose(small(feats, temb), small_unscaled(feats, temb))


def test_tokens_count_may_differ_per_block_and_errors_name_the_setting():
    heads = DiscriminatorHeads(feature_dim=24, num_blocks=2, reg_dim=32, time_dim=16)
    feats = [torch.randn(3, 5, 24), torch.randn(3, 11, 24)]
    assert heads(feats, torch.randn(3, 16)).shape == (3,)
    with pytest.raises(ValueError, match="num_blocks"):
        heads(feats[:1], torch.randn(3, 16))
    with pytest.raises(ValueError, match="time_dim"):
        heads(feats, torch.randn(3, 8))


# --- official architecture ---------------------------------------------------------------------------------------------
from vdot_train.models.disc_heads import OfficialDiscriminatorHeads, build_disc_heads, official_head_params  # noqa: E402
from vdot_train.trainer.config import DiscConfig  # noqa: E402


def test_official_heads_parameter_count_at_the_14b_width_on_meta():
    with torch.device("meta"):
        heads = build_disc_heads(DiscConfig(), feature_dim=5120, time_dim=5120)
        compact = build_disc_heads(DiscConfig(head="compact"), feature_dim=5120, time_dim=5120)
    n = sum(p.numel() for p in heads.parameters())
    # per block: proj-in 28,852,736 + attention 1,051,648 + FFN 14,170,112 + proj-out 2,900,480 = 46,974,976;
    # ×3 + registers 1,536 + their RMS-norm 512 + final LN/Linear/Linear 104,908,801
    assert n == official_head_params(5120) == 3 * 46_974_976 + 1_536 + 512 + 104_908_801 == 245_835_777
    assert sum(p.numel() for p in compact.parameters()) == 35_731_969  # the earlier head: ≈ 6.9× smaller
    assert isinstance(heads, OfficialDiscriminatorHeads)


def test_official_head_matches_its_equations():
    torch.manual_seed(0)
    heads = OfficialDiscriminatorHeads(feature_dim=24, num_blocks=2, reg_dim=16, attn_heads=4, ffn_dim=40,
                                       time_dim=12)
    feats, temb = _inputs(B=2, N=5, F=24, nb=2, T=12)
    head, h = heads.heads[1], feats[1]
    # DHO-1…4 written out for block 1 with explicit per-head softmax attention
    r = heads.registers[1]
    q0 = r * torch.rsqrt(r.pow(2).mean() + 1e-6) * heads.register_norm.weight  # RMSNorm of the register
    x = head.proj_in(h)  # [B, N, R]

    def rms(z, w):
        return z * torch.rsqrt(z.pow(2).mean(-1, keepdim=True) + 1e-6) * w

    q = rms(head.q(q0), head.norm_q.weight).view(4, 4)  # [heads, d]
    k = rms(head.k(x), head.norm_k.weight).view(2, 5, 4, 4)
    v = head.v(x).view(2, 5, 4, 4)
    w = torch.softmax(torch.einsum("hd,bnhd->bhn", q, k) / 2.0, dim=-1)  # √d = 2
    a = head.o(torch.einsum("bhn,bnhd->bhd", w, v).reshape(2, 16))
    y = q0 + a
    y = y + head.ffn(torch.nn.functional.layer_norm(y, (16,), eps=1e-6))
    o1 = head.proj_out(y)
    o0 = heads.heads[0](feats[0], heads.register_norm(heads.registers)[0].expand(2, 1, -1)).detach()
    z = torch.cat([o0, o1, 10 * temb], dim=-1)
    assert torch.allclose(heads(feats, temb), heads.out(z).squeeze(-1), atol=1e-5)
    logits = heads(feats, temb)
    logits.sum().backward()
    assert float(heads.registers.grad.abs().sum()) > 0


def test_build_disc_heads_names_the_setting():
    from uvc_data.errors import ConfigError

    with pytest.raises(ConfigError, match="disc.head"):
        build_disc_heads(DiscConfig(head="big"), 24, 24)
