"""Key-layout conversion between the original Wan/VACE code (and the official VDOT release: a `.pt` holding
{'generator': state dict}) and diffusers' WanTransformer3DModel / WanVACETransformer3DModel. Tensors are unchanged;
only names move. One table drives both directions.

Original layout (Wan2.1 / VACE):                  diffusers:
  patch_embedding, vace_patch_embedding             same
  text_embedding.{0,2}                              condition_embedder.text_embedder.linear_{1,2}
  time_embedding.{0,2}                              condition_embedder.time_embedder.linear_{1,2}
  time_projection.1                                 condition_embedder.time_proj
  blocks.N.self_attn.{q,k,v,o,norm_q,norm_k}        blocks.N.attn1.{to_q,to_k,to_v,to_out.0,norm_q,norm_k}
  blocks.N.cross_attn.…                             blocks.N.attn2.…
  blocks.N.norm3 (cross-attention norm)             blocks.N.norm2
  blocks.N.ffn.{0,2}                                blocks.N.ffn.net.{0.proj,2}
  blocks.N.modulation                               blocks.N.scale_shift_table
  vace_blocks.N.{before_proj,after_proj}            vace_blocks.N.{proj_in,proj_out}
  head.head, head.modulation                        proj_out, scale_shift_table
"""
from __future__ import annotations

import re
from pathlib import Path

import torch

from uvc_data.errors import BadInputError

# (original, diffusers) regexes over whole keys; block-level rules use (?P<pre>…) for "blocks.N." / "vace_blocks.N.".
_B = r"(?P<pre>(?:vace_)?blocks\.\d+\.)"
_RULES: list[tuple[str, str]] = [
    (r"text_embedding\.0\.", "condition_embedder.text_embedder.linear_1."),
    (r"text_embedding\.2\.", "condition_embedder.text_embedder.linear_2."),
    (r"time_embedding\.0\.", "condition_embedder.time_embedder.linear_1."),
    (r"time_embedding\.2\.", "condition_embedder.time_embedder.linear_2."),
    (r"time_projection\.1\.", "condition_embedder.time_proj."),
    (r"head\.head\.", "proj_out."),
    (r"head\.modulation$", "scale_shift_table"),
    (_B + r"self_attn\.q\.", r"\g<pre>attn1.to_q."),
    (_B + r"self_attn\.k\.", r"\g<pre>attn1.to_k."),
    (_B + r"self_attn\.v\.", r"\g<pre>attn1.to_v."),
    (_B + r"self_attn\.o\.", r"\g<pre>attn1.to_out.0."),
    (_B + r"self_attn\.norm_", r"\g<pre>attn1.norm_"),
    (_B + r"cross_attn\.q\.", r"\g<pre>attn2.to_q."),
    (_B + r"cross_attn\.k\.", r"\g<pre>attn2.to_k."),
    (_B + r"cross_attn\.v\.", r"\g<pre>attn2.to_v."),
    (_B + r"cross_attn\.o\.", r"\g<pre>attn2.to_out.0."),
    (_B + r"cross_attn\.norm_", r"\g<pre>attn2.norm_"),
    (_B + r"norm3\.", r"\g<pre>norm2."),
    (_B + r"ffn\.0\.", r"\g<pre>ffn.net.0.proj."),
    (_B + r"ffn\.2\.", r"\g<pre>ffn.net.2."),
    (_B + r"modulation$", r"\g<pre>scale_shift_table"),
    (_B + r"before_proj\.", r"\g<pre>proj_in."),
    (_B + r"after_proj\.", r"\g<pre>proj_out."),
]


def _regex_to_template(pattern: str) -> str:
    """Turn one side's regex into the other side's replacement template (and back)."""
    t = pattern.replace(_B, r"\g<pre>").replace("\\.", ".").rstrip("$")
    return t


def _compile(direction: str) -> list[tuple[re.Pattern, str]]:
    out = []
    for orig, diff in _RULES:
        if direction == "to_diffusers":
            out.append((re.compile("^" + orig), diff))
        else:
            src = re.escape(diff.replace(r"\g<pre>", "@PRE@")).replace("@PRE@", _B)
            src = src + ("$" if orig.endswith("$") else "")
            out.append((re.compile("^" + src), _regex_to_template(orig)))
    return out


_TO_DIFFUSERS = _compile("to_diffusers")
_TO_ORIGINAL = _compile("to_original")
_WRAPPER_PREFIXES = ("model.diffusion_model.", "_fsdp_wrapped_module.", "module.", "model.")


def _rename(key: str, rules: list[tuple[re.Pattern, str]]) -> str:
    for pattern, repl in rules:
        new, n = pattern.subn(repl, key, count=1)
        if n:
            return new
    return key


def original_to_diffusers(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Original Wan/VACE keys (wrapper prefixes such as `model.` stripped) → diffusers keys."""
    out = {}
    for k, v in state.items():
        for p in _WRAPPER_PREFIXES:
            if k.startswith(p):
                k = k[len(p):]
                break
        out[_rename(k, _TO_DIFFUSERS)] = v
    return out


def diffusers_to_original(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """diffusers keys → original Wan/VACE keys (the inverse of original_to_diffusers)."""
    return {_rename(k, _TO_ORIGINAL): v for k, v in state.items()}


def load_original_checkpoint(path: str | Path, key: str = "generator") -> dict[str, torch.Tensor]:
    """An official VDOT `.pt` ({'generator': original-layout state dict}, or a bare state dict) → diffusers keys.
    Read with torch.load(weights_only=True): no pickled code runs; memory-mapped, so tensors are paged in from the
    file as they are used (converting a 14B file does not hold 56 GB in memory)."""
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:  # legacy (non-zip) torch.save files cannot be memory-mapped
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
        obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise BadInputError(f"{path} holds no state dict under {key!r}: expected {{'{key}': {{name: tensor}}}}")
    return original_to_diffusers(obj)
