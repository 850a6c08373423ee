"""Random stand-in weights saved in the weights layout, for tests and the scoring benchmark (never for results): tiny
DINO/CLIP/LAION backbones, and full-size random RAFT/AMT-S/MUSIQ checkpoints in their official containers."""
from __future__ import annotations

from pathlib import Path

import torch

from uvc_bench.metrics.layout import ENTRIES


def save_tiny_weights(root: str | Path, seed: int = 0) -> Path:
    """Write tiny random DINO (ViTModel), CLIP B/32 and L/14 stand-ins (CLIPVisionModelWithProjection) and a LAION
    head matching the L/14 stand-in's projection into `root`, laid out as uvc_bench.metrics.layout says."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection, ViTConfig, ViTModel

    root = Path(root)
    torch.manual_seed(seed)
    vit = ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                             image_size=224, patch_size=16), add_pooling_layer=False)
    vit.save_pretrained(root / ENTRIES["dino_vitb16"].relpath)
    for key, proj in (("clip_vitb32", 16), ("clip_vitl14", 24)):
        cfg = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2,
                               image_size=224, patch_size=32, projection_dim=proj)
        CLIPVisionModelWithProjection(cfg).save_pretrained(root / ENTRIES[key].relpath)
    head = root / ENTRIES["laion_aesthetic"].relpath
    head.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torch.nn.Linear(24, 1).state_dict(), head)
    return root


def save_random_reference_nets(root: str | Path, seed: int = 0) -> Path:
    """Write randomly initialised RAFT, AMT-S and MUSIQ checkpoints — full size (their layout is fixed by the
    official files) and in the official containers: raft-things.pth keys prefixed 'module.', amt-s.pth as
    {"state_dict": …}, MUSIQ as a plain state dict — into `root`, laid out as uvc_bench.metrics.layout says."""
    from uvc_bench.metrics.nets.amt import AMTS
    from uvc_bench.metrics.nets.musiq import MUSIQ
    from uvc_data.nets.raft import RAFT

    root = Path(root)
    torch.manual_seed(seed)
    files = {
        "raft_things": {f"module.{k}": v for k, v in RAFT().state_dict().items()},
        "amt_s": {"state_dict": AMTS().state_dict()},
        "musiq_spaq": MUSIQ().state_dict(),
    }
    for key, obj in files.items():
        path = root / ENTRIES[key].relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(obj, path)
    return root
