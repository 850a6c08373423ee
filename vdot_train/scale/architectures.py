"""The paper's architectures as diffusers / transformers configs, so the planner can build them on the meta device
without any file (method.md, "Wan2.1 shapes"). With a model.path that exists, its own config.json is used instead."""
from __future__ import annotations

from typing import Any

# WanVACETransformer3DModel (diffusers); the 14B values are diffusers' defaults for this class
WAN_VACE_14B: dict[str, Any] = dict(patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128,
                                    in_channels=16, out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=13824,
                                    num_layers=40, cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6,
                                    rope_max_seq_len=1024, vace_layers=list(range(0, 40, 5)), vace_in_channels=96)
WAN_VACE_1_3B: dict[str, Any] = {**WAN_VACE_14B, "num_attention_heads": 12, "ffn_dim": 8960, "num_layers": 30,
                                 "vace_layers": list(range(0, 30, 2))}
# umT5-XXL encoder (Wan's text encoder)
UMT5_XXL: dict[str, Any] = dict(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
                                relative_attention_num_buckets=32, feed_forward_proj="gated-gelu")
# Wan VAE: 16 latent channels, stride (4, 8, 8)
VAE_STRIDE = (4, 8, 8)
VAE_PARAMS = 126_892_531  # AutoencoderKLWan (Wan2.1), counted from its default config

ARCHITECTURES = {"wan-vace-14b": WAN_VACE_14B, "wan-vace-1.3b": WAN_VACE_1_3B}
