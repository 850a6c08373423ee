"""The memory planner: networks counted on the meta device (checked against the Wan block's parameter formula), the
paper's 4×H200 set-up fits only with the official CPU offload, and the CLI names a setting that makes it fit."""
from __future__ import annotations

import pytest

from vdot_train.recipes import get_recipe
from vdot_train.scale.planner import GiB, net_shape, parse_bytes, plan, suggestions


def wan_block_params(d: int, ffn: int) -> int:
    """WanTransformerBlock: self- and cross-attention (q, k, v, o with biases; RMS q/k norms over all heads),
    the affine cross-attention LayerNorm, the FFN and the 6·d modulation table."""
    attn = 4 * (d * d + d) + 2 * d
    return 2 * attn + 2 * d + (d * ffn + ffn + ffn * d + d) + 6 * d


@pytest.mark.parametrize("arch,d,ffn,blocks,vace", [("wan-vace-14b", 5120, 13824, 40, 8),
                                                     ("wan-vace-1.3b", 1536, 8960, 30, 15)])
def test_meta_counts_match_the_block_formula(arch, d, ffn, blocks, vace):
    cfg = get_recipe("phase2")
    cfg.fsdp_wrap = "block"
    s = net_shape(cfg, arch)
    assert (s.dim, s.ffn, s.blocks, s.vace_blocks) == (d, ffn, blocks, vace)
    vace_block = wan_block_params(d, ffn) + (d * d + d)  # + proj_out; the first VACE block also has proj_in
    assert s.block_params == vace_block + (d * d + d)  # the largest unit: the first VACE block
    in_blocks = blocks * wan_block_params(d, ffn) + vace * vace_block + (d * d + d)
    assert s.params - s.root_params == in_blocks
    # the official size policy (5e7): at 14B the largest unit is the time projection (d → 6d), not a block
    cfg.fsdp_wrap = "size"
    fine = net_shape(cfg, arch)
    assert fine.params == s.params
    if arch == "wan-vace-14b":
        assert fine.block_params == d * 6 * d + 6 * d and fine.root_params < 0.02 * s.root_params
    else:  # at 1.3B nothing below a block reaches 5e7: the same units as the block policy
        assert (fine.block_params, fine.root_params) == (s.block_params, s.root_params)
    if arch == "wan-vace-14b":
        assert 17.3e9 < s.params < 17.4e9  # method.md: ≈ 17.3 B with the VACE blocks


def test_paper_setup_fits_with_offload_only():
    cfg = get_recipe("phase2")
    assert cfg.fsdp_cpu_offload  # the official code's setting
    pl = plan(cfg, 4, parse_bytes("141GB"), "wan-vace-14b")
    assert pl.fits and pl.host  # sharded states in host memory
    cfg.fsdp_cpu_offload = False
    pl2 = plan(cfg, 4, parse_bytes("141GB"), "wan-vace-14b")
    assert not pl2.fits and pl2.peak > pl.peak
    tips = suggestions(cfg, pl2, "wan-vace-14b", "cuda")
    assert any("fsdp_cpu_offload=true" in t for t in tips)
    # sharding divides the weights: twice the ranks, half the persistent bytes of sharded states
    assert plan(cfg, 8, parse_bytes("141GB"), "wan-vace-14b").rows["teacher (frozen)"] * 2 == pl2.rows["teacher (frozen)"]


def test_async_checkpoint_staging_is_a_host_copy_of_the_saved_shards():
    cfg = get_recipe("phase2")
    pl = plan(cfg, 4, parse_bytes("141GB"), "wan-vace-14b")
    key = "async checkpoint staging (a copy of the saved shards)"
    assert key not in pl.host and any("async_checkpoint=true would stage" in n for n in pl.notes)
    cfg.run.async_checkpoint = True
    pa = plan(cfg, 4, parse_bytes("141GB"), "wan-vace-14b")
    # fp32 master weights and two fp32 Adam moments of generator, fake score and heads, a quarter per rank
    assert pa.host[key] == pa.rows.get("generator + fake score + heads (master weights)",
                                       pa.host.get("generator + fake score + heads (master weights)")) * 3
    assert pa.peak == pl.peak  # host memory only: the GPU plan does not change
    assert 95 * GiB < pa.host[key] < 100 * GiB  # 34.9 B trained parameters × 12 bytes / 4


def test_parse_bytes():
    assert parse_bytes("141GB") == 141 * GiB and parse_bytes("80GiB") == 80 * GiB and parse_bytes("512MB") == 512 << 20
