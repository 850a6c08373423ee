"""Batched captioning through the real transformers path (the sharpened tiny LLaVA of conftest, frames as images): one
`generate` per batch, prompts left-padded, and a batch giving the captions single calls give (greedy decoding);
the caption step cutting its stream into caption.batch_size batches; the stage runner handing a batch over."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from uvc_data.captioners import CaptionConfig, CaptionContext, CaptionStep, build_captioner
from uvc_data.captioners.base import CaptionRequest
from uvc_data.captioners.frames import pick_frames
from uvc_data.sample import Provenance, Sample
from uvc_data.writer.stages import FAILED, SAMPLE, Envelope, StageRunner, StageSpec


def _clips(n: int) -> list[CaptionRequest]:
    """Clips of different lengths (so their prompts differ in length and the batch needs padding)."""
    rng = np.random.default_rng(1)
    return [CaptionRequest(rng.integers(0, 256, (9 + 8 * i, 32, 40, 3), dtype=np.uint8), 8.0,
                           CaptionContext(f"v{i}.mp4", 0.0, 1.0)) for i in range(n)]


class CountingGenerate:
    """Wraps the real model.generate and records the batch size of each call."""

    def __init__(self, model):
        self.real, self.batches, self.new_tokens = model.generate, [], []
        model.generate = self

    def __call__(self, **kwargs):
        self.batches.append(int(kwargs["input_ids"].shape[0]))
        out = self.real(**kwargs)
        self.new_tokens.append(int(out.shape[1] - kwargs["input_ids"].shape[1]))
        return out


@pytest.fixture
def tiny_captioner(sharp_vlm_dir):
    cfg = CaptionConfig(backend="transformers", model_path=str(sharp_vlm_dir), max_new_tokens=5, max_frames=4,
                        sample_fps=2.0, min_words=1, device="cpu")
    cap = build_captioner(cfg)
    cap.setup()
    return cap


def test_a_batch_of_three_is_one_left_padded_generate_with_the_captions_of_three_single_calls(tiny_captioner):
    clips = _clips(3)
    shown = [pick_frames(r.frames, r.fps, 2.0, 4, tiny_captioner.cfg.max_pixels) for r in clips]
    assert [len(s.indices) for s in shown] == [2, 4, 4]  # 9, 17, 25 frames at 8 fps → 1.1, 2.1, 3.1 s at 2 fps
    mask = tiny_captioner.inputs(shown)["attention_mask"]
    assert mask[0, 0] == 0 and mask[0, -1] == 1 and mask[1:, 0].all()  # the short prompt is padded on the left
    gen = CountingGenerate(tiny_captioner.model)
    batched = tiny_captioner.caption_batch(clips)
    singles = [tiny_captioner.caption_batch([r])[0] for r in clips]
    assert gen.batches == [3, 1, 1, 1]
    assert batched == singles and all(batched)
    assert len(set(batched)) > 1  # different clips, different captions: the comparison can fail


def test_a_row_that_ends_early_is_cut_at_its_end_of_sequence(tmp_path):
    """A finished row of a batch is padded until the longest is done; this model's EOS (Llama's default id 2) is a
    printable character to its tokenizer, so decoding would not skip the padding: the caption is cut at EOS."""
    from tests.captions.tiny_models import save_tiny_llava

    path = save_tiny_llava(tmp_path / "m", hidden=64, layers=2, image=56, scale=3.0)
    cap = build_captioner(CaptionConfig(backend="transformers", model_path=str(path), max_new_tokens=16,
                                        device="cpu", dtype="float32"))
    cap.setup()
    rng = np.random.default_rng(0)
    clips = [CaptionRequest(rng.integers(0, 256, (int(rng.integers(32, 65)), 96, 128, 3), dtype=np.uint8), 16.0,
                            CaptionContext(f"{i}.mp4", 0, 2)) for i in range(4)]
    gen = CountingGenerate(cap.model)
    batched = cap.caption_batch(clips)
    singles = [cap.caption_batch([c])[0] for c in clips]
    assert min(gen.new_tokens[1:]) < 16 == gen.new_tokens[0]  # some clip ended early, the batch ran on
    assert batched == singles


def _sample(i: int, frames: np.ndarray) -> Sample:
    prov = Provenance(f"v{i}.mp4", f"v{i}", 0, 0, 0.0, 1.0, 8.0, frames.shape[2], frames.shape[1])
    return Sample(f"v{i}-0000", frames, 8.0, prov, tasks=["t2v"])


def test_caption_step_cuts_its_stream_into_batches(sharp_vlm_dir):
    cfg = CaptionConfig(backend="transformers", model_path=str(sharp_vlm_dir), max_new_tokens=5, max_frames=4,
                        min_words=1, device="cpu", batch_size=2)
    step = CaptionStep(cfg)
    step.setup()
    gen = CountingGenerate(step.captioner.model)
    samples = [_sample(i, r.frames) for i, r in enumerate(_clips(5))]
    samples[3].tasks = []  # already rejected: not captioned, still passed on
    out = list(step.run(samples))
    assert [s.key for s in out] == [s.key for s in samples] and gen.batches == [2, 1, 1]
    assert all(s.prompt for i, s in enumerate(out) if i != 3) and out[3].prompt == ""
    assert step.stats["in"] == 5 and step.stats["captioned"] == 4


def test_stage_runner_hands_the_steps_a_batch_and_keeps_each_samples_lineage(sharp_vlm_dir):
    cfg = CaptionConfig(backend="transformers", model_path=str(sharp_vlm_dir), max_new_tokens=5, max_frames=4,
                        min_words=1, device="cpu", batch_size=3)
    steps: list = []

    def factory():
        steps.append(CaptionStep(cfg))
        return steps[-1:]

    runner = StageRunner(StageSpec("caption", factory, batch_size=3), first=False)
    gen = CountingGenerate(steps[0].captioner.model)
    clips = _clips(4)
    envs = [Envelope(SAMPLE, f"v{i}", i, (0,), Fraction(1), _sample(i, r.frames)) for i, r in enumerate(clips)]
    outs = list(runner.stream(envs))
    assert gen.batches == [3, 1]
    assert [(o.kind, o.source_id, o.lineage) for o in outs] == [(SAMPLE, f"v{i}", (0, 0)) for i in range(4)]
    singles = [steps[0].captioner.caption_batch([r])[0] for r in clips]
    from uvc_data.captioners.base import clean_caption

    assert [o.payload.prompt for o in outs] == [clean_caption(t) for t in singles]
    # the batch's counters are counted once (with the first sample), its time shared by the three
    assert outs[0].stats["caption/caption"]["captioned"] == 3 and "caption/caption" not in outs[1].stats
    assert outs[0].seconds["caption"] == pytest.approx(outs[1].seconds["caption"])


def test_a_batch_failing_on_content_is_asked_again_clip_by_clip(sharp_vlm_dir):
    """A clip the model cannot take (no frames) makes the batched call fail: each clip is asked alone, only that
    clip is rejected, the others are captioned."""
    cfg = CaptionConfig(backend="transformers", model_path=str(sharp_vlm_dir), max_new_tokens=5, max_frames=4,
                        min_words=1, device="cpu", batch_size=3)
    step = CaptionStep(cfg)
    clips = _clips(3)
    samples = [_sample(i, r.frames) for i, r in enumerate(clips)]
    samples[1].frames = samples[1].frames[:, :0]  # zero-width frames: the processor refuses them
    out = step.process_batch(samples)
    assert out[0].prompt and out[2].prompt and out[1].tasks == []
    assert out[1].rejected["clip"].startswith("caption error:") and step.stats["error"] == 1


def test_stage_runner_fails_every_input_of_a_batch_when_the_machinery_fails(monkeypatch, sharp_vlm_dir):
    from uvc_data.errors import InfrastructureError

    cfg = CaptionConfig(backend="transformers", model_path=str(sharp_vlm_dir), device="cpu", batch_size=2)
    runner = StageRunner(StageSpec("caption", lambda: [CaptionStep(cfg)], batch_size=2), first=False)

    def down(requests):
        raise InfrastructureError("CUDA out of memory (simulated by the test)")

    monkeypatch.setattr(runner.steps[0].captioner, "caption_batch", down)
    envs = [Envelope(SAMPLE, f"v{i}", i, (0,), Fraction(1), _sample(i, r.frames)) for i, r in enumerate(_clips(2))]
    outs = list(runner.stream(envs))
    assert [(o.kind, o.source_id) for o in outs] == [(FAILED, "v0"), (FAILED, "v1")]
    assert all(o.payload["error"] == "InfrastructureError" for o in outs)
