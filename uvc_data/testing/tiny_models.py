"""Tiny real models built from configs and saved to disk, so tests load them through the production loading path."""
from __future__ import annotations

from pathlib import Path


def save_tiny_depth_anything(folder: str | Path) -> Path:
    """A Depth Anything V2-style model (DINOv2 backbone, DPT head) with its image processor, a few thousand
    parameters, saved with save_pretrained into `folder` — the layout the depth annotator loads."""
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    bb = Dinov2Config(hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, patch_size=14,
                      image_size=56, out_features=["stage1", "stage2"], reshape_hidden_states=False)
    cfg = DepthAnythingConfig(backbone_config=bb, reassemble_hidden_size=16, neck_hidden_sizes=[8, 16],
                              fusion_hidden_size=8, head_hidden_size=4, reassemble_factors=[2, 1], patch_size=14)
    folder = Path(folder)
    DepthAnythingForDepthEstimation(cfg).save_pretrained(folder)
    DPTImageProcessor(size={"height": 56, "width": 56}, keep_aspect_ratio=True, ensure_multiple_of=14,
                      do_pad=False).save_pretrained(folder)
    return folder
