"""The Captioner interface (batched: several clips per call), its config, caption cleaning, and the pipeline step."""
from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from uvc_data.captioners.frames import sample_frames  # noqa: F401  (re-exported: the frame picking lives there)
from uvc_data.configurable import neutral
from uvc_data.errors import ConfigError, UnknownNameError, is_infrastructure
from uvc_data.sample import Sample
from uvc_data.steps.base import BatchSampleStep

log = logging.getLogger(__name__)

DEFAULT_PROMPT = (
    "Describe this video in one or two sentences: the main subjects and their appearance, what they do, "
    "the setting, and the camera motion. Do not start with 'The video'."
)


@dataclass
class VLLMOptions:
    """The `vllm` backend's engine (vllm.LLM built once per worker from caption.model_path)."""

    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None  # None: the model's own
    tensor_parallel_size: int = 1


@dataclass
class CaptionConfig:
    backend: Literal["sidecar", "transformers", "openai", "vllm"] = "sidecar"
    prompt: str = DEFAULT_PROMPT
    # frames shown to the model: sampled at `sample_fps` (Cosmos-Curate uses 2 fps windows), at most `max_frames`,
    # downscaled so that width × height ≤ max_pixels
    sample_fps: float = 2.0
    max_frames: int = 8
    max_pixels: int = 640 * 360
    min_words: int = 3  # a shorter caption is an empty/fragmentary one: the clip is rejected with that reason
    max_new_tokens: int = 128
    # clips per captioner call: one padded `generate` (transformers), one `LLM.generate` (vllm), up to `concurrency`
    # requests in flight (openai). The caption stage hands the step this many clips at a time (local and Ray).
    batch_size: int = 4
    concurrency: int = neutral("how many requests are in flight, not what is asked", default=4)  # openai backend
    # transformers and vllm backends: a local directory with the model and its processor (Qwen2.5-VL, Qwen3-VL, InternVL, ...)
    model_path: str | None = None
    device: str = "auto"  # auto: cuda when available, else cpu
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"  # auto: bfloat16 on CUDA, float32 on CPU
    # openai backend: base URL of an OpenAI-compatible server (e.g. vLLM) and the served model name
    endpoint: str | None = None
    model: str | None = None
    endpoint_input: Literal["video", "images"] = "video"  # the clip as one MP4 at its real rate, or JPEG frames
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 120.0
    retries: int = 4  # 429 / 5xx / connection errors: attempts after the first (uvc_data.http)
    retry_backoff_s: float = 1.0  # first wait, doubling (a server's Retry-After wins)
    vllm: VLLMOptions = field(default_factory=VLLMOptions)
    # sidecar backend: where to look, relative to each input (see docs/captions.md)
    sidecar_names: list[str] = field(default_factory=lambda: ["{stem}.txt", "{stem}.captions.json", "captions.jsonl"])

    def validate(self) -> None:
        if self.backend in ("transformers", "vllm") and not self.model_path:
            raise ConfigError("caption.model_path", f"the {self.backend} captioner needs a local model directory")
        if self.backend == "openai" and not (self.endpoint and self.model):
            raise ConfigError("caption.endpoint", "the openai captioner needs `endpoint` (base URL) and `model`")
        if self.endpoint_input not in ("video", "images"):
            raise ConfigError("caption.endpoint_input", f"{self.endpoint_input!r} is not one of video, images")
        if self.sample_fps <= 0 or self.max_frames < 1:
            raise ConfigError("caption.sample_fps", "sample_fps must be > 0 and max_frames ≥ 1")
        if self.batch_size < 1 or self.concurrency < 1:
            raise ConfigError("caption.batch_size", f"batch_size ({self.batch_size}) and concurrency "
                                                    f"({self.concurrency}) must be ≥ 1")


@dataclass(frozen=True)
class CaptionContext:
    """Where a clip comes from: the sidecar backend looks its caption up by this."""

    source: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class CaptionRequest:
    """One clip to caption: its frames (T, H, W, 3) uint8 at `fps`, and where it comes from."""

    frames: np.ndarray
    fps: float
    context: CaptionContext


class Captioner(ABC):
    name = "captioner"

    def __init__(self, cfg: CaptionConfig):
        self.cfg = cfg

    def setup(self) -> None:
        """Load models / open clients once per worker."""

    def devices(self) -> dict[str, str]:
        """Where a local model runs (after setup); {} for backends without one (sidecar, endpoints)."""
        return {}

    @abstractmethod
    def caption(self, frames: np.ndarray, fps: float, context: CaptionContext) -> str:
        """frames (T, H, W, 3) uint8 → caption (may be empty when the backend has none)."""

    def caption_batch(self, requests: list[CaptionRequest]) -> list[str]:
        """One caption per request, in order. Backends with a batched model override this (one call for all);
        the default asks `caption` for each."""
        return [self.caption(r.frames, r.fps, r.context) for r in requests]


_LEADS = re.compile(r"^(the|this) (video|clip|footage) (shows|depicts|features|captures)\s+", re.IGNORECASE)


def clean_caption(text: str) -> str:
    """Collapse whitespace, drop chat artefacts and a leading 'The video shows', capitalise."""
    text = re.sub(r"<\|[^|>]*\|>", " ", text)
    text = " ".join(text.replace("\n", " ").split()).strip().strip('"').strip()
    text = _LEADS.sub("", text)
    return text[:1].upper() + text[1:] if text else text


def build_captioner(cfg: CaptionConfig) -> Captioner:
    from uvc_data.captioners.hf_vlm import TransformersCaptioner
    from uvc_data.captioners.openai_compat import OpenAICaptioner
    from uvc_data.captioners.sidecar import SidecarCaptioner
    from uvc_data.captioners.vllm_engine import VLLMCaptioner

    backends: dict[str, type[Captioner]] = {
        "sidecar": SidecarCaptioner,
        "transformers": TransformersCaptioner,
        "openai": OpenAICaptioner,
        "vllm": VLLMCaptioner,
    }
    if cfg.backend not in backends:
        raise ConfigError("caption.backend", str(UnknownNameError("captioner", cfg.backend, list(backends))))
    cfg.validate()
    return backends[cfg.backend](cfg)


class CaptionStep(BatchSampleStep):
    """Sets `sample.prompt`; an empty or fragmentary caption rejects the clip with the reason recorded. A failure
    of the machinery (uvc_data.errors.is_infrastructure) fails the input instead (`--retry-failed` redoes it).

    Clips come `caption.batch_size` at a time (one captioner call for all). When a batched call fails on content
    (not infrastructure), each clip of the batch is asked again alone, so only the clip at fault is rejected."""

    name = "caption"

    def __init__(self, cfg: CaptionConfig, captioner: Captioner | None = None):
        super().__init__(batch_size=cfg.batch_size)
        self.cfg = cfg
        self.captioner = captioner or build_captioner(cfg)
        self._ready = False

    def setup(self) -> None:
        if not self._ready:
            self.captioner.setup()
            self._ready = True

    def devices(self) -> dict[str, str]:
        return self.captioner.devices()

    @staticmethod
    def _request(sample: Sample) -> CaptionRequest:
        p = sample.provenance
        return CaptionRequest(sample.frames, sample.fps, CaptionContext(p.source, p.start_s, p.end_s))

    def process_batch(self, samples: list[Sample]) -> list[Sample | None]:
        todo = [s for s in samples if s.tasks and s.frames is not None]
        if not todo:
            return list(samples)
        self.setup()
        try:
            texts: list[str | Exception] = list(self.captioner.caption_batch([self._request(s) for s in todo]))
        except Exception as exc:  # one clip's failure never stops the run
            if is_infrastructure(exc):
                raise  # endpoint down after its retries, CUDA out of memory, ...: fail the inputs, not the clips
            texts = [exc] if len(todo) == 1 else [self._alone(s) for s in todo]
        for sample, text in zip(todo, texts, strict=True):
            self._verdict(sample, text)
        return list(samples)

    def _alone(self, sample: Sample) -> str | Exception:
        try:
            return self.captioner.caption_batch([self._request(sample)])[0]
        except Exception as exc:
            return exc

    def _verdict(self, sample: Sample, text: str | Exception) -> None:
        if isinstance(text, Exception):
            if is_infrastructure(text):
                raise text
            log.warning("caption failed for %s: %s", sample.key, text)
            self.stats["error"] += 1
            sample.reject("clip", f"caption error: {type(text).__name__}: {text}")
            return
        text = clean_caption(text)
        sample.prompt = text
        words = len(text.split())
        sample.signals["caption_words"] = float(words)
        if words < self.cfg.min_words:
            self.stats["too_short"] += 1
            sample.reject("clip", f"caption empty or fragmentary ({words} words < caption.min_words={self.cfg.min_words})")
        else:
            self.stats["captioned"] += 1
