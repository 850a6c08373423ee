"""The `vllm` captioner. vLLM needs CUDA and cannot be installed on CPU machines, so two tests:

- `test_requests_built_for_vllm` checks OUR request building, not vLLM: a stand-in `vllm` module is put in
  sys.modules that records what the captioner constructs (LLM's arguments, SamplingParams, the prompt dicts given
  to LLM.generate) and answers each prompt with a text made from its own request. It checks the API we were written
  against (vLLM's `LLM(model=..., limit_mm_per_prompt=...)`, `SamplingParams(temperature, max_tokens)`,
  `generate(prompts, sampling_params=..., use_tqdm=...)` with `multi_modal_data={"video": (frames, metadata)}`).
- `test_real_vllm_generates_a_caption_per_clip` runs vLLM itself on a tiny Qwen3-VL where vLLM imports and a CUDA
  device is present; otherwise it is skipped, saying why.
"""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from uvc_data.captioners import CaptionConfig, CaptionContext, build_captioner
from uvc_data.captioners.base import CaptionRequest
from uvc_data.errors import MissingDependencyError


def _clips(n: int) -> list[CaptionRequest]:
    rng = np.random.default_rng(3)
    return [CaptionRequest(rng.integers(0, 256, (17 + 8 * i, 48, 64, 3), dtype=np.uint8), 16.0,
                           CaptionContext(f"{i}.mp4", 0, 1)) for i in range(n)]


@pytest.fixture
def recording_vllm(monkeypatch):
    seen: dict = {"llm": [], "sampling": [], "generate": []}

    class SamplingParams:
        def __init__(self, **kwargs):
            seen["sampling"].append(kwargs)

    class LLM:
        def __init__(self, **kwargs):
            seen["llm"].append(kwargs)

        def generate(self, prompts, sampling_params=None, use_tqdm=True):
            seen["generate"].append((prompts, sampling_params, use_tqdm))
            outs = []
            for p in prompts[::-1]:  # built in reverse, returned in order: vLLM's outputs follow the prompts
                frames, meta = p["multi_modal_data"]["video"]
                text = f"A clip of {len(frames)} frames, {meta['total_num_frames']} in all."
                outs.append(types.SimpleNamespace(outputs=[types.SimpleNamespace(text=text)]))
            return outs[::-1]

    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=LLM, SamplingParams=SamplingParams))
    return seen


def test_requests_built_for_vllm(recording_vllm, tiny_vlm_dir):
    cfg = CaptionConfig(backend="vllm", model_path=str(tiny_vlm_dir), sample_fps=2.0, max_frames=8, max_new_tokens=7,
                        batch_size=3)
    cfg.vllm.max_model_len = 4096
    cap = build_captioner(cfg)
    texts = cap.caption_batch(_clips(3))
    assert texts == [f"A clip of {n} frames, {17 + 8 * i} in all." for i, n in enumerate([2, 3, 4])]
    assert recording_vllm["llm"] == [{"model": str(tiny_vlm_dir), "dtype": "auto", "seed": 0,
                                      "gpu_memory_utilization": 0.9, "tensor_parallel_size": 1,
                                      "limit_mm_per_prompt": {"image": 0, "video": 1}, "max_model_len": 4096}]
    assert recording_vllm["sampling"] == [{"temperature": 0.0, "max_tokens": 7}]
    (prompts, params, tqdm), = recording_vllm["generate"]  # one generate for the batch
    assert len(prompts) == 3 and tqdm is False
    expected = cap.processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": cfg.prompt}]}],
        add_generation_prompt=True, tokenize=False)
    for i, p in enumerate(prompts):
        n, shown = 17 + 8 * i, [2, 3, 4][i]
        frames, meta = p["multi_modal_data"]["video"]
        idx = np.linspace(0, n - 1, shown).round().astype(int).tolist()
        assert p["prompt"] == expected and cfg.prompt in p["prompt"]
        assert frames.shape == (shown, 48, 64, 3) and frames.dtype == np.uint8
        np.testing.assert_array_equal(frames, _clips(3)[i].frames[idx])
        assert meta == {"total_num_frames": n, "fps": 16.0, "duration": n / 16.0, "frames_indices": idx,
                        "height": 48, "width": 64, "do_sample_frames": False}
        assert p["mm_processor_kwargs"] == {"fps": pytest.approx(shown / (n / 16.0)), "do_sample_frames": False}
    cap.caption_batch(_clips(1))
    assert len(recording_vllm["llm"]) == 1  # the engine is built once per worker


def test_vllm_missing_says_how_to_install(tiny_vlm_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm → ImportError, as on a machine without it
    cap = build_captioner(CaptionConfig(backend="vllm", model_path=str(tiny_vlm_dir)))
    with pytest.raises(MissingDependencyError, match="pip install vllm"):
        cap.setup()


def test_real_vllm_generates_a_caption_per_clip(request):
    pytest.importorskip("vllm", reason="vLLM is not installed (it needs CUDA); test_requests_built_for_vllm "
                                       "checks the requests we build instead")
    import torch

    if not torch.cuda.is_available():
        pytest.skip("vLLM is installed but no CUDA device is visible")
    tiny_qwen3vl_dir = request.getfixturevalue("tiny_qwen3vl_dir")
    cfg = CaptionConfig(backend="vllm", model_path=str(tiny_qwen3vl_dir), sample_fps=4.0, max_frames=8,
                        max_new_tokens=4, min_words=1, batch_size=3)
    cfg.vllm.max_model_len, cfg.vllm.gpu_memory_utilization = 2048, 0.3
    cap = build_captioner(cfg)
    texts = cap.caption_batch(_clips(3))
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert cap.caption_batch(_clips(3)) == texts  # greedy: the same again
