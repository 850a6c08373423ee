"""Vision-language captioners through transformers, from a local directory: Qwen2.5-VL, Qwen3-VL, InternVL (HF format),
or any AutoModelForImageTextToText whose AutoProcessor loads.

The clip goes in as a video when the processor has a video processor (Qwen-VL, InternVL on a machine with torchvision),
otherwise as its sampled frames, each an image. Frames are sampled and resized here (sample_fps, max_frames,
max_pixels) and the processor does the model-specific rest, so qwen-vl-utils is not needed. A video goes with its
VideoMetadata (the clip's real fps and frame count, the indices of the frames shown) and `do_sample_frames=False`:
the processor keeps exactly the frames given (no re-sampling at an assumed 24 fps) and time-stamps them at their
real times (Qwen3-VL's "<t seconds>" prompts, Qwen2.5-VL's seconds per temporal patch).

Batched: `caption_batch` runs ONE `generate` for all clips, prompts padded on the left, greedy decoding.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from uvc_data.annotators.weights import auto_dtype, resolve_device
from uvc_data.captioners.base import CaptionContext, Captioner, CaptionRequest
from uvc_data.captioners.frames import ShownClip, pick_frames
from uvc_data.errors import MissingDependencyError, MissingWeightsError
from uvc_data.imports import available, require

log = logging.getLogger(__name__)


class TransformersCaptioner(Captioner):
    name = "transformers"

    def devices(self) -> dict[str, str]:
        model = getattr(self, "model", None)
        return {"caption (transformers)": str(model.device)} if model is not None else {}

    def setup(self) -> None:
        if getattr(self, "model", None) is not None:
            return
        path = Path(self.cfg.model_path or "")
        if not (path / "config.json").is_file():
            raise MissingWeightsError(
                "the captioning model (caption.model_path)", [str(path)],
                "download a vision-language model in Hugging Face format (e.g. Qwen/Qwen2.5-VL-7B-Instruct, "
                "Qwen/Qwen3-VL-8B-Instruct, OpenGVLab/InternVL3-8B-hf) to a folder and set caption.model_path to it, "
                "or use caption.backend=openai with a vLLM server, or caption.backend=sidecar")
        transformers = require("transformers", purpose="the transformers captioner")
        torch = require("torch")
        try:
            self.processor = transformers.AutoProcessor.from_pretrained(str(path))
        except (ImportError, ValueError, OSError) as exc:
            if "torchvision" in str(exc).lower() or "Torchvision" in str(exc):
                raise MissingDependencyError(
                    f"the processor in {path} needs torchvision (its video processor): install the torchvision that "
                    f"matches your torch (pip install torchvision==<matching version>); on CPU-only machines use "
                    f"caption.backend=openai or sidecar. ({exc})") from exc
            raise
        self.device = resolve_device(self.cfg.device)
        dtype = auto_dtype(torch, self.cfg.dtype, self.device)
        self.model = transformers.AutoModelForImageTextToText.from_pretrained(str(path), dtype=dtype).to(self.device).eval()
        self.video_mode = getattr(self.processor, "video_processor", None) is not None
        self.processor.tokenizer.padding_side = "left"  # batched generate continues every prompt from its end
        log.info("captioner %s loaded (%s input)", path, "video" if self.video_mode else "frames as images")

    def _prompt(self, content: list[dict]) -> str:
        content = content + [{"type": "text", "text": self.cfg.prompt}]
        return self.processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                                  tokenize=False)

    def inputs(self, shown: list[ShownClip]):
        """The processor's batch for these clips (what `generate` gets): one prompt per clip, left-padded."""
        from PIL import Image

        if self.video_mode:
            text = self._prompt([{"type": "video"}])
            return self.processor(text=[text] * len(shown), videos=[s.frames for s in shown],
                                  video_metadata=[s.video_metadata() for s in shown], do_sample_frames=False,
                                  padding=True, return_tensors="pt")
        texts = [self._prompt([{"type": "image"} for _ in s.frames]) for s in shown]
        images = [Image.fromarray(f) for s in shown for f in s.frames]
        return self.processor(text=texts, images=images, padding=True, return_tensors="pt")

    def caption_batch(self, requests: list[CaptionRequest]) -> list[str]:
        import torch

        self.setup()
        c = self.cfg
        shown = [pick_frames(r.frames, r.fps, c.sample_fps, c.max_frames, c.max_pixels) for r in requests]
        inputs = self.inputs(shown).to(self.device)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=c.max_new_tokens, do_sample=False)
        return self.processor.batch_decode(self._until_eos(out[:, inputs["input_ids"].shape[1]:].tolist()),
                                           skip_special_tokens=True)

    def _until_eos(self, rows: list[list[int]]) -> list[list[int]]:
        """Each row cut at its first end-of-sequence token: in a batch, `generate` fills a finished row with padding
        until the longest is done (and a model's EOS need not be a special token that decoding would skip)."""
        eos = self.model.generation_config.eos_token_id
        stop = {eos} if isinstance(eos, int) else set(eos or ())
        return [row[:next((i for i, t in enumerate(row) if t in stop), len(row))] for row in rows]

    def caption(self, frames: np.ndarray, fps: float, context: CaptionContext) -> str:
        return self.caption_batch([CaptionRequest(frames, fps, context)])[0]
