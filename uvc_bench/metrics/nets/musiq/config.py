"""MUSIQ architecture and multi-scale input hyper-parameters, as VBench's imaging_quality builds it:
`pyiqa.archs.musiq_arch.MUSIQ(pretrained_model_path=<musiq_spaq_ckpt-358bb6af.pth>)` — every argument at its default.
Passing a path keeps `num_class=1` (pyiqa switches to 10 classes only for the AVA weights it downloads itself), so the
SPAQ head is Linear(384 → 1) and the score is its raw output."""
from __future__ import annotations

from dataclasses import dataclass

from uvc_data.errors import ConfigError


@dataclass(frozen=True)
class MusiqConfig:
    patch_size: int = 32  # square patches (stride = size) cut from every scale
    num_class: int = 1  # 1: raw score head; > 1: softmax over classes 1..C, score = Σ c·p_c (AVA-style)
    hidden_size: int = 384  # transformer width
    mlp_dim: int = 1152
    num_heads: int = 6
    num_layers: int = 14
    spatial_pos_grid_size: int = 10  # G: hash-based spatial embedding grid G×G
    use_scale_emb: bool = True
    longer_side_lengths: tuple[int, ...] = (224, 384)  # resized scales (sorted → scale ids 0, 1, ...)
    max_seq_len_from_original_res: int | None = -1  # original resolution: -1 all patches, None: not used, n ≥ 0: n
    resnet_token_dim: int = 64  # stem width; the bottleneck widens it 4×

    @property
    def num_scales(self) -> int:
        """Scale embeddings: one per resized scale plus the original resolution (pyiqa builds 3 for the defaults)."""
        return len(self.longer_side_lengths) + (self.max_seq_len_from_original_res is not None)

    @property
    def token_patch_size(self) -> int:
        """Side of a patch after the stem's two stride-2 stages (conv root, max pool)."""
        return self.patch_size // 4

    @property
    def token_dim(self) -> int:
        """Length of one flattened stem output (H·W·C of the bottleneck output, TF channel order)."""
        return self.resnet_token_dim * 4 * self.token_patch_size**2

    def validate(self) -> None:
        for name in ("patch_size", "num_class", "hidden_size", "mlp_dim", "num_heads", "num_layers",
                     "spatial_pos_grid_size", "resnet_token_dim"):
            if getattr(self, name) < 1:
                raise ConfigError(name, f"must be ≥ 1, got {getattr(self, name)}")
        if self.patch_size % 4:
            raise ConfigError("patch_size", f"must be a multiple of 4 (the stem downsamples 4×), got {self.patch_size}")
        if self.hidden_size % self.num_heads:
            raise ConfigError("num_heads", f"must divide hidden_size={self.hidden_size}, got {self.num_heads}")
        if self.resnet_token_dim % 32:
            raise ConfigError("resnet_token_dim",
                              f"must be a multiple of 32 (GroupNorm(32)), got {self.resnet_token_dim}")
        if not self.longer_side_lengths or min(self.longer_side_lengths) < 1:
            raise ConfigError("longer_side_lengths", f"need ≥ 1 positive length, got {self.longer_side_lengths}")
        if self.max_seq_len_from_original_res is not None and self.max_seq_len_from_original_res < -1:
            raise ConfigError("max_seq_len_from_original_res",
                              f"use -1 (all patches), None (no original scale) or n ≥ 0, got "
                              f"{self.max_seq_len_from_original_res}")
