"""AccWanInit (method.md, "Two phases and AccWanInit"): the phase-2 VACE generator takes its main Wan weights
(patch/text/time embeddings, main blocks, head) from the phase-1 few-step T2V checkpoint; the VACE-only weights
(vace_blocks.*, vace_patch_embedding.*) keep the teacher's values."""
from __future__ import annotations

import torch

from uvc_data.errors import ConfigError

VACE_ONLY_PREFIXES = ("vace_blocks.", "vace_patch_embedding.")


def accwan_init(vace_transformer: torch.nn.Module, t2v_state: dict[str, torch.Tensor]) -> list[str]:
    """Copy every non-VACE weight of `vace_transformer` from `t2v_state`; returns the copied keys.

    Raises ConfigError when a main weight is missing from the T2V state or has another shape (wrong model size).
    """
    own = vace_transformer.state_dict()
    main_keys = [k for k in own if not k.startswith(VACE_ONLY_PREFIXES)]
    missing = [k for k in main_keys if k not in t2v_state]
    if missing:
        raise ConfigError("init.accwan_from", f"the T2V checkpoint lacks {len(missing)} main weights of the VACE "
                                              f"model (first: {missing[:3]}): is it a checkpoint of the same size?")
    bad = [k for k in main_keys if tuple(t2v_state[k].shape) != tuple(own[k].shape)]
    if bad:
        raise ConfigError("init.accwan_from", f"shape mismatch for {bad[:3]}: the T2V checkpoint is another size")
    new_state = dict(own)
    for k in main_keys:
        new_state[k] = t2v_state[k].to(own[k].dtype)
    vace_transformer.load_state_dict(new_state)
    return main_keys
