"""Training data streams (shards, in-memory, prompts; resume and rank sharding) and the Self-Forcing rollout."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from uvc_data.shards import sample_to_wds, write_tar
from vdot_train.data import BatchBuilder, PromptStream, SampleStream, choose_task
from vdot_train.flow import student_schedule
from vdot_train.models.codecs import PixelCodec
from vdot_train.models.denoiser import Denoiser
from vdot_train.models.text_encoder import TextEncoder
from vdot_train.trainer.config import DataConfig
from vdot_train.trainer.rollout import rollout

from .conftest import make_sample


@pytest.mark.parametrize("prefetch", [0, 3])
def test_shard_stream_resumes_at_the_same_sample(tmp_path, prefetch):
    for s in range(2):
        write_tar(tmp_path / f"shard-{s}.tar", [sample_to_wds(make_sample(10 * s + i)) for i in range(3)])
    a = SampleStream([str(tmp_path)], seed=1, prefetch=prefetch)
    keys = [a.next().key for _ in range(8)]  # crosses an epoch boundary (6 samples)
    assert sorted(keys[:6]) == sorted(f"s{k}" for k in (0, 1, 2, 10, 11, 12)) and a.epoch == 1
    b = SampleStream([str(tmp_path)], seed=1, prefetch=prefetch)
    for _ in range(4):
        b.next()
    c = SampleStream([str(tmp_path)], seed=1, prefetch=prefetch)
    c.load_state_dict(b.state_dict())
    assert [c.next().key for _ in range(4)] == keys[4:]
    r0, r1 = (SampleStream([str(tmp_path)], seed=1, rank=r, world=2, prefetch=prefetch) for r in (0, 1))
    k0, k1 = [r0.next().key for _ in range(3)], [r1.next().key for _ in range(3)]
    assert not set(k0) & set(k1) and sorted(k0 + k1) == sorted(keys[:6])


def test_prompt_stream_and_task_choice():
    p = PromptStream(["a", "b", "", "c"], seed=0)
    first = [p.next() for _ in range(3)]
    assert sorted(first) == ["a", "b", "c"]
    samples = [make_sample(0), make_sample(1)]
    samples[1].tasks = ["t2v", "depth"]
    rng = np.random.default_rng(0)
    assert {choose_task(samples, [], rng) for _ in range(20)} == {"t2v", "depth"}
    assert choose_task(samples, ["inpainting"], rng) == "t2v"  # nothing shared → T2V


def test_batches_for_vace_from_samples_and_prompts(tiny_vace_dir):
    te = TextEncoder.from_dir(tiny_vace_dir, max_length=16)
    b = BatchBuilder(PixelCodec(2), te, DataConfig(tasks=["depth"], num_frames=3, height=16, width=16), "vace")
    batch = b.from_samples([make_sample(0), make_sample(1)], np.random.default_rng(0))
    assert batch.tasks == ["depth", "depth"] and batch.shape == (2, 12, 3, 8, 8)
    assert batch.context.shape == (2, 28, 3, 8, 8) and batch.text_emb.shape == (2, 16, 32)
    frames = torch.from_numpy(make_sample(0).frames).float().div(127.5).sub(1).permute(3, 0, 1, 2)
    assert torch.allclose(PixelCodec(2).decode(batch.real[:1])[0], frames, atol=1e-6)
    pb = b.from_prompts(["a cat", "a dog"])
    assert pb.real is None and pb.shape == (2, 12, 3, 8, 8) and pb.context.shape == (2, 28, 3, 8, 8)
    assert torch.all(pb.context[:, :24] == 0) and torch.all(pb.context[:, 24:] == 1)  # T2V VCU: F zeros, M ones


@pytest.mark.parametrize("k", [0, 2, 3])
def test_rollout_grad_only_at_exit_step(tiny_t2v_dir, k):
    den = Denoiser.from_dir(tiny_t2v_dir, "t2v")
    text = torch.randn(1, 16, 32)
    calls = []

    def g(x, t):
        calls.append((torch.is_grad_enabled(), float(t[0])))
        return den(x, t, text).velocity

    sched = student_schedule("official")
    gen = torch.Generator().manual_seed(0)
    x0 = rollout(g, torch.randn(1, 12, 2, 8, 8, generator=gen), sched, k, gen)
    assert [c[0] for c in calls] == [False] * k + [True]
    assert [c[1] for c in calls] == pytest.approx(sched.labels[: k + 1].tolist())
    assert x0.requires_grad
    x0.sum().backward()
    assert den.transformer.proj_out.weight.grad is not None


@pytest.mark.parametrize("kind", ["official", "consistent"])
def test_rollout_calls_with_labels_and_renoises_to_sigmas(kind):
    # velocity field v(x, t) = x: x̂0 = (1 − label/1000)·x, then x_next = (1 − σ_next)·x̂0 + σ_next·ε
    sched = student_schedule(kind)
    seen = []

    def g(x, t):
        seen.append((x.clone(), float(t[0])))
        return x

    gen = torch.Generator().manual_seed(3)
    noise = torch.randn(2, 4, 1, 3, 3, generator=gen)
    state = gen.get_state()
    out = rollout(g, noise, sched, 3, gen, grad=False)
    ref = torch.Generator()
    ref.set_state(state)
    x = noise
    for i in range(3):
        assert torch.allclose(seen[i][0], x, atol=1e-6) and seen[i][1] == pytest.approx(float(sched.labels[i]))
        x0 = (1 - sched.labels[i] / 1000) * x
        eps = torch.randn(x.shape, generator=ref)
        x = (1 - sched.sigmas[i + 1]) * x0 + sched.sigmas[i + 1] * eps
    assert torch.allclose(seen[3][0], x, atol=1e-6)
    assert torch.allclose(out, (1 - sched.labels[3] / 1000) * x, atol=1e-6)
