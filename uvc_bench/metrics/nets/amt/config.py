"""AMT-S architecture hyper-parameters (MCG-NKU/AMT cfgs/AMT-S.yaml, as VBench's motion_smoothness builds it)."""
from __future__ import annotations

from dataclasses import dataclass

from uvc_data.errors import ConfigError


@dataclass(frozen=True)
class AMTSConfig:
    corr_radius: int = 3  # correlation lookup window (2r+1)² per level
    corr_levels: int = 4  # correlation pyramid levels
    num_flows: int = 3  # flow pairs predicted per pixel by the last decoder, merged by `comb_block`
    channels: tuple[int, int, int, int] = (20, 32, 44, 56)  # context pyramid at 1/2, 1/4, 1/8, 1/16
    skip_channels: int = 20  # side channels of the decoders' residual blocks
    feat_dim: int = 84  # correlation feature encoder output (1/8 resolution)
    hidden_dim: int = 76  # update block hidden width
    flow_dim: int = 20  # update block flow-feature width
    corr_dim: int = 64  # update block correlation-feature width
    fc_dim: int = 68  # update block fused-feature width

    @property
    def corr_planes(self) -> int:
        """Channels of one direction's correlation lookup: levels · (2r + 1)²."""
        return self.corr_levels * (2 * self.corr_radius + 1) ** 2

    def validate(self) -> None:
        for name in ("corr_radius", "corr_levels", "num_flows", "skip_channels", "feat_dim", "hidden_dim",
                     "flow_dim", "corr_dim", "fc_dim"):
            if getattr(self, name) < 1:
                raise ConfigError(name, f"must be ≥ 1, got {getattr(self, name)}")
        if len(self.channels) != 4 or min(self.channels) < 1:
            raise ConfigError("channels", f"need 4 positive pyramid widths, got {self.channels}")
        if self.skip_channels >= 2 * self.channels[0]:
            raise ConfigError("skip_channels", f"must be < 2 · channels[0] = {2 * self.channels[0]} (side channels "
                                               f"are split off the decoders' features), got {self.skip_channels}")
