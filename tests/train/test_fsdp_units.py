"""FSDP units (vdot_train.scale.units): the size policy picks what the official code's FSDP1 size-based wrapping
picks (torch's own `_recursive_wrap` with `size_based_auto_wrap_policy(min_num_params=5e7)` as the oracle, on the
real 14B network built on the meta device), plus every block; the block policy only blocks."""
from __future__ import annotations

import functools

import pytest
from diffusers import WanVACETransformer3DModel

from vdot_train.scale.architectures import ARCHITECTURES
from vdot_train.scale.meta import on_meta
from vdot_train.scale.units import fsdp_units, unit_sizes


@pytest.fixture(scope="module")
def vace14b():
    with on_meta():
        return WanVACETransformer3DModel.from_config(dict(ARCHITECTURES["wan-vace-14b"]))


def _names(model, mods):
    names = {id(m): n for n, m in model.named_modules()}
    return [names[id(m)] for m in mods]


def fsdp1_size_policy(model, min_params: int) -> set[str]:
    """The modules FSDP1's size-based auto-wrap (as the official fsdp_wrap calls it) would wrap."""
    from torch.distributed.fsdp.wrap import _recursive_wrap, size_based_auto_wrap_policy

    names = {id(m): n for n, m in model.named_modules()}
    picked: list[str] = []

    def record(mod, **_):
        picked.append(names[id(mod)])
        return mod

    _recursive_wrap(model, functools.partial(size_based_auto_wrap_policy, min_num_params=min_params), record,
                    set(), set(), only_wrap_children=True)
    return set(picked)


def test_size_policy_is_the_official_fsdp1_policy_plus_blocks(vace14b):
    ours = _names(vace14b, fsdp_units(vace14b, "size", 50_000_000))
    official = fsdp1_size_policy(vace14b, 50_000_000)
    blocks = {f"blocks.{i}" for i in range(40)} | {f"vace_blocks.{i}" for i in range(8)}
    assert set(ours) == official | blocks | {""}
    assert ours[-1] == ""  # the root last
    assert ours.index("blocks.0.attn1") < ours.index("blocks.0")  # children before their parents
    assert "blocks.0.attn1" in official and "blocks.0.ffn.net.0.proj" in official  # 105 M / 71 M parameters


def test_unit_sizes_partition_the_network(vace14b):
    for policy in ("size", "block"):
        sizes = unit_sizes(vace14b, policy)
        assert sum(sizes) == sum(p.numel() for p in vace14b.parameters())
    size, block = unit_sizes(vace14b, "size"), unit_sizes(vace14b, "block")
    assert max(size) < 0.4 * max(block)  # 157 M (time_proj) vs a whole VACE block
    assert size[-1] < 0.05 * block[-1]  # the embedding linears leave the root


def test_block_policy_and_bad_name(vace14b):
    names = _names(vace14b, fsdp_units(vace14b, "block"))
    assert len(names) == 40 + 8 + 1 and all(n.startswith(("blocks.", "vace_blocks.")) for n in names[:-1])
    with pytest.raises(ValueError, match="fsdp_wrap"):
        fsdp_units(vace14b, "layer")  # type: ignore[arg-type]
