"""UMT5 text encoder + tokenizer from a local directory, with an in-memory embedding cache.

Embeddings follow Wan's convention (as WanPipeline): the hidden states of the real tokens, zeros after the sequence
length, padded to `max_length` tokens. Shape: [B, max_length, D].
"""
from __future__ import annotations

from pathlib import Path

import torch

from vdot_train.models.loading import component_dir, tokenizer_dir

TEXT_HOW = ("point `model.text_encoder_path` (or `model.path`) at a diffusers Wan pipeline dir holding text_encoder/ "
            "(UMT5EncoderModel) and tokenizer/; the tiny_cpu recipe builds a tiny one in code")


class TextEncoder:
    def __init__(self, model: torch.nn.Module, tokenizer, max_length: int = 512):
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.dim = int(model.config.d_model)
        self._cache: dict[str, torch.Tensor] = {}

    @classmethod
    def from_dir(cls, path: str | Path, max_length: int = 512) -> "TextEncoder":
        from transformers import AutoTokenizer, UMT5EncoderModel

        enc_dir = component_dir(path, "text_encoder", "the UMT5 text encoder", TEXT_HOW)
        tok_dir = tokenizer_dir(path, "the UMT5 tokenizer", TEXT_HOW)
        return cls(UMT5EncoderModel.from_pretrained(enc_dir), AutoTokenizer.from_pretrained(tok_dir), max_length)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def _encode_uncached(self, prompts: list[str]) -> torch.Tensor:
        tok = self.tokenizer(prompts, padding="max_length", max_length=self.max_length, truncation=True,
                             add_special_tokens=True, return_attention_mask=True, return_tensors="pt")
        ids, mask = tok.input_ids.to(self.device), tok.attention_mask.to(self.device)
        hidden_BLD = self.model(ids, mask).last_hidden_state.float()
        return hidden_BLD * mask[..., None].to(hidden_BLD.dtype)  # zeros after each prompt's length

    def encode(self, prompts: list[str]) -> torch.Tensor:
        """[B, max_length, D] float32 on CPU; each distinct prompt is encoded once per process."""
        todo = sorted({p for p in prompts if p not in self._cache})
        if todo:
            for p, e in zip(todo, self._encode_uncached(todo).cpu()):
                self._cache[p] = e
        return torch.stack([self._cache[p] for p in prompts])

    def to(self, device: torch.device | str) -> "TextEncoder":
        self.model.to(device)
        return self


def build_tiny_text_encoder(dim: int = 32, max_length: int = 16, seed: int = 0) -> TextEncoder:
    """A tiny UMT5 (2 layers) and a character-level tokenizer, built in code (tests, tiny_cpu recipe)."""
    from transformers import T5Tokenizer, UMT5Config, UMT5EncoderModel

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(c, -float(i)) for i, c in enumerate("▁abcdefghijklmnopqrstuvwxyz0123456789.,")]
    tokenizer = T5Tokenizer(vocab=vocab, extra_ids=0)
    torch.manual_seed(seed)
    cfg = UMT5Config(vocab_size=len(vocab), d_model=dim, d_kv=8, d_ff=2 * dim, num_layers=2, num_heads=4,
                     relative_attention_num_buckets=8)
    return TextEncoder(UMT5EncoderModel(cfg), tokenizer, max_length)
