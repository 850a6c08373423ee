"""Denoiser: one interface over WanTransformer3DModel (T2V) and WanVACETransformer3DModel (unified).

forward(x_t, t, text_emb, context=None, context_scale=1.0, return_features=()) → DenoiserOutput with the velocity
v = ε − x0 (method.md, flow matching), the hidden states of the chosen main blocks (captured by forward hooks, for the
discriminator heads) and the time embedding e (for the heads' time input).
Shapes: x_t [B, C, T, H, W] latents; t [B] with t = 1000·σ; text_emb [B, L, D]; context [B, Cc, T, H, W];
features: list of [B, N, dim] tokens; temb [B, dim].
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import torch
from torch import nn

from uvc_data.errors import BadInputError, ConfigError
from vdot_train.models.loading import TRANSFORMER_HOW, component_dir

Kind = Literal["t2v", "vace"]


@dataclass
class DenoiserOutput:
    velocity: torch.Tensor
    features: list[torch.Tensor] = field(default_factory=list)
    temb: torch.Tensor | None = None


def transformer_class_and_dir(path: str | Path, kind: Kind):
    """(diffusers transformer class for `kind`, the folder holding its config.json and weights); ConfigError when
    the folder holds the other kind, MissingWeightsError when it holds none."""
    from diffusers import WanTransformer3DModel, WanVACETransformer3DModel

    what = "the Wan VACE transformer" if kind == "vace" else "the Wan T2V transformer"
    d = component_dir(path, "transformer", what, TRANSFORMER_HOW)
    model_cls = WanVACETransformer3DModel if kind == "vace" else WanTransformer3DModel
    found = json.loads((d / "config.json").read_text()).get("_class_name", "?")
    if found != model_cls.__name__:
        other = "t2v" if kind == "vace" else "vace"
        raise ConfigError("model.kind", f"{d} holds a {found}, not a {model_cls.__name__}: set model.kind={other} "
                                        "or point model.path at the other model")
    return model_cls, d


class Denoiser(nn.Module):
    def __init__(self, transformer: nn.Module):
        super().__init__()
        self.transformer = transformer
        self.kind: Kind = "vace" if hasattr(transformer, "vace_blocks") else "t2v"
        # hooks are installed only for the duration of one forward (deepcopy- and FSDP-safe)
        self._capture: dict[int, torch.Tensor | None] = {}
        self._temb: torch.Tensor | None = None

    # --- construction -------------------------------------------------------------------------------------------
    @classmethod
    def from_dir(cls, path: str | Path, kind: Kind, dtype: torch.dtype = torch.float32) -> "Denoiser":
        model_cls, d = transformer_class_and_dir(path, kind)
        return cls(model_cls.from_pretrained(d, torch_dtype=dtype))

    @property
    def num_blocks(self) -> int:
        return len(self.transformer.blocks)

    @property
    def dim(self) -> int:
        cfg = self.transformer.config
        return int(cfg.num_attention_heads * cfg.attention_head_dim)

    @property
    def in_channels(self) -> int:
        return int(self.transformer.config.in_channels)

    @property
    def context_channels(self) -> int:
        return int(getattr(self.transformer.config, "vace_in_channels", 0))

    @property
    def patch_size(self) -> tuple[int, int, int]:
        return tuple(self.transformer.config.patch_size)  # type: ignore[return-value]

    def enable_gradient_checkpointing(self) -> None:
        self.transformer.enable_gradient_checkpointing()

    # --- hooks ----------------------------------------------------------------------------------------------------
    def _block_hook(self, index: int):
        def hook(_module, _inputs, output):
            self._capture[index] = output
        return hook

    def _temb_hook(self, _module, _inputs, output):
        self._temb = output[0]

    # --- forward --------------------------------------------------------------------------------------------------
    def forward(self, x_t: torch.Tensor, t: torch.Tensor, text_emb: torch.Tensor, context: torch.Tensor | None = None,
                context_scale: float = 1.0, return_features: Sequence[int] = ()) -> DenoiserOutput:
        for i in return_features:
            if not 0 <= i < self.num_blocks:
                raise ConfigError("disc.blocks", f"block {i} does not exist: the model has {self.num_blocks} blocks")
        t = t.to(x_t.device).float().reshape(-1).expand(x_t.shape[0]) if t.numel() == 1 else t.to(x_t.device).float()
        x_t = x_t.to(self.transformer.dtype)
        kwargs = {}
        if self.kind == "vace":
            if context is None:
                raise BadInputError("the VACE denoiser needs a context (build it with vdot_train.models.vace_context)")
            n_scale = len(self.transformer.config.vace_layers)
            kwargs = {"control_hidden_states": context.to(x_t.dtype),
                      "control_hidden_states_scale": x_t.new_full((n_scale,), float(context_scale))}
        elif context is not None:
            raise BadInputError("a T2V denoiser takes no context: use model.kind=vace for conditioned tasks")
        self._capture, self._temb = {i: None for i in return_features}, None
        handles = [self.transformer.blocks[i].register_forward_hook(self._block_hook(i)) for i in set(return_features)]
        handles.append(self.transformer.condition_embedder.register_forward_hook(self._temb_hook))
        try:
            v = self.transformer(hidden_states=x_t, timestep=t, encoder_hidden_states=text_emb.to(x_t.dtype),
                                 return_dict=False, **kwargs)[0]
            feats = [self._capture[i] for i in return_features]
            temb = self._temb
        finally:
            for h in handles:
                h.remove()
            self._capture, self._temb = {}, None
        return DenoiserOutput(velocity=v, features=feats, temb=temb)
