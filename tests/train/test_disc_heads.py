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
