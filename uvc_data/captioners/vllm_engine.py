"""Captions from vLLM in-process: one `vllm.LLM` per worker (built once, from caption.model_path), one
`LLM.generate` per batch of clips. vLLM's own scheduler batches them on the GPU, so large caption.batch_size
values pay off here.

Each clip goes as one prompt dict: the model's chat template with one video part (rendered by the model's
AutoProcessor), `multi_modal_data={"video": (frames, metadata)}` — the frames shown (T', H', W', 3) uint8 and the
VideoMetadata fields of uvc_data.captioners.frames (the clip's fps and frame count, the indices shown) plus
`do_sample_frames: False` — and `mm_processor_kwargs={"fps": rate shown, "do_sample_frames": False}`. vLLM keeps
the metadata for the models that need it (Qwen3-VL time-stamps frames from it) and passes the processor kwargs on
to the HF processor, so the frames are taken as given, never re-sampled. Greedy decoding (temperature 0) up to
caption.max_new_tokens; engine options in caption.vllm.

vLLM needs CUDA; where it does not import, setup raises MissingDependencyError with the install line.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from uvc_data.captioners.base import CaptionContext, Captioner, CaptionRequest
from uvc_data.captioners.frames import ShownClip, pick_frames
from uvc_data.errors import MissingWeightsError
from uvc_data.imports import require

log = logging.getLogger(__name__)


class VLLMCaptioner(Captioner):
    name = "vllm"

    def devices(self) -> dict[str, str]:
        return {"caption (vllm)": "cuda"} if getattr(self, "llm", None) is not None else {}

    def setup(self) -> None:
        if getattr(self, "llm", None) is not None:
            return
        path = Path(self.cfg.model_path or "")
        if not (path / "config.json").is_file():
            raise MissingWeightsError(
                "the captioning model (caption.model_path)", [str(path)],
                "download a vision-language model in Hugging Face format that vLLM serves (e.g. "
                "Qwen/Qwen2.5-VL-7B-Instruct, Qwen/Qwen3-VL-8B-Instruct) to a folder and set caption.model_path")
        vllm = require("vllm", "vllm", "the vllm captioner (caption.backend=vllm; needs CUDA)")
        transformers = require("transformers", purpose="the vllm captioner's chat template")
        self.processor = transformers.AutoProcessor.from_pretrained(str(path))
        o = self.cfg.vllm
        kwargs: dict[str, Any] = {"model": str(path), "dtype": self.cfg.dtype, "seed": 0,
                                  "gpu_memory_utilization": o.gpu_memory_utilization,
                                  "tensor_parallel_size": o.tensor_parallel_size,
                                  "limit_mm_per_prompt": {"image": 0, "video": 1}}
        if o.max_model_len:
            kwargs["max_model_len"] = o.max_model_len
        self.llm = vllm.LLM(**kwargs)
        self.sampling = vllm.SamplingParams(temperature=0.0, max_tokens=self.cfg.max_new_tokens)
        log.info("vLLM captioner %s loaded", path)

    def prompt_text(self) -> str:
        content = [{"type": "video"}, {"type": "text", "text": self.cfg.prompt}]
        return self.processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                                  tokenize=False)

    def requests(self, shown: list[ShownClip]) -> list[dict[str, Any]]:
        """The prompt dicts `LLM.generate` gets for these clips (see the module docstring)."""
        text = self.prompt_text()
        return [{"prompt": text,
                 "multi_modal_data": {"video": (s.frames, s.video_metadata() | {"do_sample_frames": False})},
                 "mm_processor_kwargs": {"fps": s.rate, "do_sample_frames": False}} for s in shown]

    def caption_batch(self, requests: list[CaptionRequest]) -> list[str]:
        self.setup()
        c = self.cfg
        shown = [pick_frames(r.frames, r.fps, c.sample_fps, c.max_frames, c.max_pixels) for r in requests]
        outputs = self.llm.generate(self.requests(shown), sampling_params=self.sampling, use_tqdm=False)
        return [o.outputs[0].text if o.outputs else "" for o in outputs]

    def caption(self, frames: np.ndarray, fps: float, context: CaptionContext) -> str:
        return self.caption_batch([CaptionRequest(frames, fps, context)])[0]
