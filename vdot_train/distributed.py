"""Distributed training: torchrun + FSDP2 (`fully_shard`), applied by one function so model code stays single-device.

`parallelize(denoiser, cpu_offload)` shards each transformer block (main and VACE) as its own unit, then the root;
`full_state_dict(module)` gathers full weights (rank 0 writes checkpoints). Launch (4 GPUs, the paper's set-up):
    torchrun --nproc_per_node=4 -m uvc_cli.main train train --recipe phase2 --set distributed=true
"""
from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch import nn


def init_from_env(backend: str | None = None) -> tuple[int, int]:
    """Initialise the process group from torchrun's env vars; returns (rank, world_size). No-op when not launched."""
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) <= 1:
        return 0, 1
    if not dist.is_initialized():
        backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        dist.init_process_group(backend)
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    return dist.get_rank(), dist.get_world_size()


def is_main() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def _is_sharded(module: nn.Module) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return any(isinstance(m, FSDPModule) for m in module.modules())


def parallelize(model: nn.Module, cpu_offload: bool = False, reshard_after_forward: bool = True) -> nn.Module:
    """FSDP2: one unit per block of `model.transformer` (blocks and vace_blocks), then the whole model.

    Works on a Denoiser or a bare module with `.blocks`; other modules (e.g. discriminator heads) become one unit.
    """
    from torch.distributed.fsdp import CPUOffloadPolicy, fully_shard

    kw = {"reshard_after_forward": reshard_after_forward}
    if cpu_offload:
        kw["offload_policy"] = CPUOffloadPolicy()
    inner = getattr(model, "transformer", model)
    for name in ("blocks", "vace_blocks"):
        for block in getattr(inner, name, []):
            fully_shard(block, **kw)
    fully_shard(model, **kw)
    return model


def full_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """Full (unsharded) CPU state dict; plain modules return their own."""
    if not dist.is_initialized() or not _is_sharded(module):
        return {k: v.detach().cpu() for k, v in module.state_dict().items()}
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(module, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def load_full_state_dict(module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    if not dist.is_initialized() or not _is_sharded(module):
        module.load_state_dict(state)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

    set_model_state_dict(module, state, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=False))


def full_optimizer_state(module: nn.Module, optimiser: torch.optim.Optimizer) -> dict:
    if not dist.is_initialized() or not _is_sharded(module):
        return optimiser.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    return get_optimizer_state_dict(module, optimiser, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def load_full_optimizer_state(module: nn.Module, optimiser: torch.optim.Optimizer, state: dict) -> None:
    if not dist.is_initialized() or not _is_sharded(module):
        optimiser.load_state_dict(state)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    set_optimizer_state_dict(module, optimiser, state, options=StateDictOptions(full_state_dict=True))
