"""Distributed training: torchrun + FSDP2 (`fully_shard`), applied by one function so model code stays single-device.

`parallelize(denoiser, cpu_offload, mp_policy, wrap)` shards the units `vdot_train.scale.units.fsdp_units` names (the
official size-based policy by default: large submodules, every block and head, then the root) — applied to meta-built networks before they are materialised (vdot_train.scale); `all_ranks_agree` is the
collective behind the non-finite skip. The VDOT trainer's checkpoints are sharded (vdot_train.scale.dcp_checkpoint);
the full-state helpers below serve one-process teacher pretraining and older checkpoints. Launch (4 GPUs):
    torchrun --nproc_per_node=4 -m uvc_cli.main train train --recipe phase2 --set distributed=true
"""
from __future__ import annotations

import os
import warnings

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


def mixed_precision_policy(device: torch.device, mixed_precision: str):
    """FSDP2 precision: fp32 sharded master weights, bf16 compute and all-gather, fp32 reduce-scatter of gradients
    when `mixed_precision == "bf16"` on CUDA; None (all fp32) elsewhere — CPU runs compute in fp32, as the trainer's
    autocast does. Forward inputs are not cast at the root (the timestep keeps fp32: bf16 would round t=937.5 to 936);
    the trainer's autocast gives bf16 compute inside, blocks cast their own inputs."""
    if mixed_precision != "bf16" or device.type != "cuda":
        return None
    from torch.distributed.fsdp import MixedPrecisionPolicy

    return MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32, cast_forward_inputs=False)


def parallelize(model: nn.Module, cpu_offload: bool = False, reshard_after_forward: bool = True,
                mp_policy=None, wrap: str = "size", min_params: int | None = None) -> nn.Module:
    """FSDP2 `fully_shard` on each unit of `fsdp_units(model, wrap, min_params)`, children first, the root last.

    Works on a Denoiser or a bare module with `.blocks` / `.heads`. Apply it to a meta-built model and materialise
    afterwards (vdot_train.scale) so no rank ever holds a whole network. `mp_policy`: a MixedPrecisionPolicy (see
    `mixed_precision_policy`) or None. `wrap`/`min_params`: see vdot_train.scale.units (default: the official
    size-based policy at 5e7 parameters).
    """
    from torch.distributed.fsdp import CPUOffloadPolicy, fully_shard

    from vdot_train.scale.units import OFFICIAL_MIN_PARAMS, fsdp_units

    kw = {"reshard_after_forward": reshard_after_forward}
    if cpu_offload:
        kw["offload_policy"] = CPUOffloadPolicy()
    if mp_policy is not None:
        kw["mp_policy"] = mp_policy
    for unit in fsdp_units(model, wrap, OFFICIAL_MIN_PARAMS if min_params is None else min_params):
        fully_shard(unit, **kw)
    # diffusers' Wan modules return reshaped views; FSDP2 warns once per class that an in-place op on one would skip
    # its backward hook. None is modified in place: sharded forward and gradients equal one process's
    # (tests/train/test_distributed_gloo.py), so the warning would only bury real ones at every launch
    warnings.filterwarnings("ignore", message=r"FSDP2-wrapped module \(FSDP(Denoiser|Linear|Wan\w+)\) returned a view",
                            category=UserWarning)
    return model


def all_ranks_agree(flag: bool, device: torch.device | str = "cpu") -> bool:
    """True only when `flag` holds on every rank (a MIN all-reduce); the local flag when not distributed.

    Every rank must call it at the same point: it is how a NaN seen by one rank makes all ranks skip together
    instead of leaving the others blocked in the next collective."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item())


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
