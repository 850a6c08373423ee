"""Aesthetic filter: CLIP image embeddings (L2-normalised) → the LAION aesthetic predictor's linear head (v1: one
nn.Linear(dim, 1), trained on ViT-L/14 embeddings; scores ≈ 1–10). Mean over sampled frames → `aesthetic`.

Weights: a transformers CLIP folder (`clip`, e.g. openai/clip-vit-large-patch14) and the head as a state dict file
(`head`: keys weight (1, dim) and bias (1,), .safetensors or .pth/.pt loaded with weights_only=True)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from uvc_data.annotators.weights import load_state_dict, pretrained_dir, resolve_device, weights_file
from uvc_data.errors import ConfigError
from uvc_data.filters.base import FILTERS, Filter
from uvc_data.filters.basic import sample_indices
from uvc_data.sample import Sample

HOW_CLIP = "download openai/clip-vit-large-patch14 (transformers format) to a folder and set aesthetic.clip=<folder>"
HOW_HEAD = ("download the LAION aesthetic predictor v1 linear head for ViT-L/14 (sa_0_4_vit_l_14_linear.pth) and set "
            "aesthetic.head=<file>")


@dataclass
class AestheticConfig:
    clip: str = ""
    head: str = ""
    min_score: float = 4.5
    frames: int = 4
    device: str = "auto"

    def validate(self) -> None:
        if self.frames < 1:
            raise ConfigError("frames", "must be ≥ 1")


class AestheticScorer:
    def __init__(self, clip: str, head: str, device: str) -> None:
        folder = pretrained_dir(clip, "CLIP for the aesthetic filter", HOW_CLIP,
                                must_have=("config.json", "preprocessor_config.json"))
        head_file = weights_file(head, "LAION aesthetic linear head", HOW_HEAD)
        import torch
        from transformers import CLIPImageProcessor, CLIPModel

        self.torch = torch
        self.device = resolve_device(device)
        self.processor = CLIPImageProcessor.from_pretrained(str(folder))
        self.model = CLIPModel.from_pretrained(str(folder)).to(self.device).eval()
        sd = {k.split(".")[-1]: v for k, v in load_state_dict(head_file).items()}  # "layers.0.weight" → "weight"
        dim = self.model.config.projection_dim
        if "weight" not in sd or tuple(sd["weight"].shape) != (1, dim):
            got = {k: tuple(v.shape) for k, v in sd.items()}
            raise ConfigError("aesthetic.head", f"{head_file}: expected weight (1, {dim}) (+ bias) for this CLIP, got {got}")
        self.head = torch.nn.Linear(dim, 1)
        self.head.load_state_dict({"weight": sd["weight"], "bias": sd.get("bias", torch.zeros(1))})
        self.head.to(self.device).eval()

    def __call__(self, images: list[np.ndarray]) -> np.ndarray:
        torch = self.torch
        inputs = self.processor(images=images, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            emb = self.model.get_image_features(pixel_values=inputs["pixel_values"])
            emb = getattr(emb, "pooler_output", emb)  # transformers versions differ in what they return
            emb = emb / emb.norm(dim=-1, keepdim=True)
            return self.head(emb.float())[:, 0].cpu().numpy()


@FILTERS.register("aesthetic", AestheticConfig)
class AestheticFilter(Filter):
    name = "aesthetic"

    def load(self) -> None:
        self.scorer = AestheticScorer(self.config.clip, self.config.head, self.config.device)

    def check(self, sample: Sample) -> str | None:
        idx = sample_indices(sample.num_frames, self.config.frames)
        score = float(np.mean(self.scorer([sample.frames[i] for i in idx])))
        sample.signals["aesthetic"] = score
        if score < self.config.min_score:
            return f"aesthetic score {score:.2f} < min_score {self.config.min_score}"
        return None
