"""Teacher pretraining / fine-tuning: plain flow matching on shards, so tiny CPU teachers can be trained from scratch.

Loss (method.md, flow matching): x_t = (1−σ)·x0 + σ·ε, L = mean‖v_θ(x_t, t, text, context) − (ε − x0)‖², t drawn with
`shift`; with probability `text_dropout` the prompt is replaced by the empty one so the teacher supports CFG.
Named deviations (defaults off): a warm-up + cosine lr schedule, an EMA of the weights (`run.ema_decay`; the exported
teacher is then the EMA) and `known_weight`, the loss weight of the latent positions the VACE context gives.
`export_model_dir()` writes a diffusers-layout teacher dir (transformer/ + the text encoder and tokenizer).

Data parallel (`distributed=true` under torchrun): every rank holds the whole (small) teacher wrapped in PyTorch's
DistributedDataParallel, reads only its share of the samples and draws its own noise; gradients are averaged in the
backward, so the replicas stay equal. The finite flag of every micro-batch's loss is agreed by all ranks before any
backward (a rank skipping its backward alone would block the others in DDP's all-reduce). Rank 0 writes checkpoints
with every rank's RNG state, so a resume at the same world size continues exactly.
    torchrun --standalone --nproc_per_node=2 -m uvc_cli.main train pretrain --set distributed=true ...
"""
from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import torch

from uvc_data.configurable import to_dict, validate
from uvc_data.errors import ConfigError
from uvc_data.sample import Sample
from vdot_train.data import BatchBuilder, TrainData
from vdot_train.distributed import all_ranks_agree, barrier, init_from_env
from vdot_train.flow import add_noise, sample_timesteps, velocity_target
from vdot_train.losses.denoise import denoising_loss
from vdot_train.models.bundle import load_denoiser, load_text_encoder
from vdot_train.models.codecs import build_codec
from vdot_train.trainer import checkpoint as ckpt
from vdot_train.trainer.common import (EMA, JsonlLog, adam, autocast, is_finite, load_rng_state, log, optimiser_step,
                                       pick_device, rng_state)
from vdot_train.trainer.config import PretrainConfig


class FlowMatchingTrainer:
    def __init__(self, cfg: PretrainConfig, samples: Sequence[Sample] | None = None):
        if samples is not None and not cfg.data.shards:
            cfg.data.shards = ["<in-memory samples>"]
        validate(cfg)
        cfg.model.materialise()
        self.cfg = cfg
        self.rank, self.world = init_from_env() if cfg.distributed else (0, 1)
        self.device = pick_device(cfg.run.device)
        self.model = load_denoiser(cfg.model).to(self.device).requires_grad_(True).train()
        if cfg.run.gradient_checkpointing:
            self.model.enable_gradient_checkpointing()
        self.forward = self.model
        if self.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            _equal_start(self.model)
            # a t2v batch leaves the VACE blocks unused on its rank while another rank's batch uses them
            self.forward = DistributedDataParallel(self.model, find_unused_parameters=True)
        text = load_text_encoder(cfg.model).to(self.device)
        codec = build_codec(cfg.model.codec, cfg.model.path)
        if hasattr(codec, "to"):
            codec.to(self.device)  # type: ignore[union-attr]
        self.data = TrainData(BatchBuilder(codec, text, cfg.data, cfg.model.kind, self.device), cfg.data, samples,
                              rank=self.rank, world=self.world)
        self.negative = text.encode([""]).to(self.device)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.opt = adam(self.params, cfg.lr, cfg.betas, cfg.weight_decay, implementation=cfg.optim_implementation)
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, self._lr_factor)
        self.ema = EMA(self.model.transformer, cfg.run.ema_decay) if cfg.run.ema_decay > 0 else None
        self.rng = torch.Generator(device=self.device).manual_seed(rank_seed(cfg.run.seed, self.rank))
        self.step, self.skipped = 0, 0
        self.logger = JsonlLog(cfg.run.out_dir) if self.rank == 0 else None
        last = ckpt.latest_checkpoint(Path(cfg.run.out_dir) / "checkpoints")
        if last is not None:
            self.load(str(last))
            log.info("resumed from %s at step %d", last, self.step)

    def _lr_factor(self, step: int) -> float:
        """lr multiplier after `step` optimiser steps: linear warm-up, then constant or cosine to min_lr_ratio."""
        c = self.cfg
        if step < c.warmup_steps:
            return (step + 1) / c.warmup_steps
        if c.lr_schedule == "constant":
            return 1.0
        span = max(c.run.max_steps - c.warmup_steps, 1)
        done = min((step - c.warmup_steps) / span, 1.0)
        return c.min_lr_ratio + (1 - c.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * done))

    def loss_weights(self, context: torch.Tensor | None, shape: torch.Size) -> torch.Tensor | None:
        """Per-position loss weights [B, 1, T, H, W] from the folded mask channels of the VACE context (mask 0 = given):
        1 + (known_weight − 1)·(1 − mask); None when known_weight is 1 or there is no context."""
        if context is None or self.cfg.known_weight == 1.0:
            return None
        mask = context[:, 2 * shape[1]:].float().mean(dim=1, keepdim=True)  # [B, 1, T, H, W]
        return 1.0 + (self.cfg.known_weight - 1.0) * (1.0 - mask)

    def loss(self) -> torch.Tensor:
        batch = self.data.next_batch()
        x0 = batch.real.float()  # type: ignore[union-attr]
        b = x0.shape[0]
        text = batch.text_emb
        drop = torch.rand(b, generator=self.rng, device=self.device) < self.cfg.text_dropout
        text = torch.where(drop[:, None, None], self.negative.expand(b, -1, -1), text)
        t = sample_timesteps(b, self.cfg.shift, 0.0, 1000.0, generator=self.rng, device=self.device)
        noise = torch.randn(x0.shape, generator=self.rng, device=self.device)
        with autocast(self.device, self.cfg.run.mixed_precision):
            v = self.forward(add_noise(x0, noise, t), t, text, batch.context).velocity
        weights = self.loss_weights(batch.context, x0.shape)
        if weights is None:
            return denoising_loss(v, x0, noise)
        err = (v.float() - velocity_target(x0, noise.float())).pow(2)
        return (err * weights).sum() / (weights.sum() * x0.shape[1]).clamp_min(1e-8)  # a weighted mean: the loss scale stays

    def train_step(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        n, total, finite = self.cfg.grad_accum, 0.0, True
        for _ in range(n):
            loss = self.loss()
            if not all_ranks_agree(is_finite(loss.detach()), self.device):  # every rank skips together
                finite = False
                continue
            (loss / n).backward()
            total += float(loss.detach()) / n
        stepped, norm = False, float("nan")
        if finite:
            stepped, norm = optimiser_step(self.opt, self.params, self.cfg.grad_clip, self.sched)
        else:
            self.opt.zero_grad(set_to_none=True)
        if stepped and self.ema is not None:
            self.ema.update(self.model.transformer)
        if not stepped:
            self.skipped += 1
            log.warning("step %d: non-finite loss or gradient, update skipped", self.step)
        rec = {"step": self.step, "loss": total, "grad_norm": norm, "skipped": float(not stepped),
               "seconds": time.perf_counter() - t0}
        self.step += 1
        return rec

    def fit(self, max_steps: int | None = None) -> list[dict[str, Any]]:
        run = self.cfg.run
        end = run.max_steps if max_steps is None else max_steps
        out = []
        while self.step < end:
            rec = self.train_step()
            out.append(rec)
            if self.logger and run.log_every and (rec["step"] % run.log_every == 0 or self.step == end):
                self.logger.write(rec)
                log.info("pretrain step %d loss %.5f", rec["step"], rec["loss"])
            if run.ckpt_every and (self.step % run.ckpt_every == 0 or self.step == end):
                self.save()
        return out

    def save(self) -> str:
        """Rank 0 writes the checkpoint (the replicas are equal) with every rank's RNG state; all ranks wait for it."""
        from vdot_train.distributed import full_state_dict

        rngs = _gather(rng_state(self.rng), self.world)
        root = Path(self.cfg.run.out_dir) / "checkpoints"
        path = root / ckpt.step_dir_name(self.step)
        if self.rank == 0:
            state = {"step": self.step, "skipped": self.skipped, "opt": self.opt.state_dict(),
                     "sched": self.sched.state_dict(), "rng": rngs[0], "rng_ranks": rngs, "world": self.world,
                     "data": self.data.state_dict()}
            weights = {"model": full_state_dict(self.model.transformer)}
            if self.ema is not None:
                weights["model_ema"] = self.ema.state_dict()
            path = ckpt.save_checkpoint(root, self.step, weights, state, to_dict(self.cfg), self.cfg.run.keep_checkpoints)
        barrier()
        return str(path)

    def load(self, path: str) -> None:
        weights, state = ckpt.load_checkpoint(path)
        self.model.transformer.load_state_dict(weights["model"])
        if self.ema is not None:
            if "model_ema" not in weights:
                raise ConfigError("run.ema_decay", f"{path} holds no EMA weights (saved without run.ema_decay): "
                                                   "resume with run.ema_decay=0 or start a new run.out_dir")
            self.ema.load_state_dict(weights["model_ema"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])
        rngs = state.get("rng_ranks", [state["rng"]])
        if len(rngs) == self.world:
            load_rng_state(self.rng, rngs[self.rank])
        else:  # another world size: the weights, optimiser and data position carry over, the noise draws do not
            log.warning("%s was saved by %d rank(s), this run has %d: noise is drawn afresh (%d-rank seeds)", path,
                        len(rngs), self.world, self.world)
        self.data.load_state_dict(state["data"])
        self.step, self.skipped = int(state["step"]), int(state["skipped"])

    def export_model_dir(self, out: str | Path | None = None) -> Path:
        """A teacher dir usable as `model.path`: transformer/ (trained; its EMA with run.ema_decay > 0) + text_encoder/,
        tokenizer/ (and vae/) copied. Written by rank 0; every rank returns its path."""
        out = Path(out or Path(self.cfg.run.out_dir) / "model")
        if self.rank != 0:
            barrier()
            return out
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        if self.ema is not None:
            raw = {k: v.detach().clone() for k, v in self.model.transformer.state_dict().items()}
            self.model.transformer.load_state_dict(self.ema.state_dict())
            self.model.transformer.save_pretrained(tmp / "transformer")
            self.model.transformer.load_state_dict(raw)
        else:
            self.model.transformer.save_pretrained(tmp / "transformer")
        src = Path(self.cfg.model.text_encoder_path or self.cfg.model.path)
        for sub in ("text_encoder", "tokenizer", "vae"):
            root = src if sub != "vae" else Path(self.cfg.model.path)
            if (root / sub).is_dir():
                shutil.copytree(root / sub, tmp / sub)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        barrier()
        return out


def rank_seed(seed: int, rank: int) -> int:
    """The noise seed of `rank`: rank 0 keeps `seed` (a one-process run draws as before), the others their own."""
    if rank == 0:
        return seed
    import numpy as np

    return int(np.random.SeedSequence([seed, rank]).generate_state(1, dtype=np.uint64)[0] >> 1)


def _gather(obj: Any, world: int) -> list[Any]:
    """`obj` of every rank (in-memory objects between our own processes), rank order; [obj] alone."""
    if world == 1:
        return [obj]
    import torch.distributed as dist

    out: list[Any] = [None] * world
    dist.all_gather_object(out, obj)
    return out


def _equal_start(model: torch.nn.Module) -> None:
    """Fail early when the replicas do not start equal (DDP would broadcast rank 0's weights and hide it)."""
    import torch.distributed as dist

    total = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1)
    lo, hi = total.clone(), total.clone()
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    if not torch.equal(lo, hi):
        raise ConfigError("model.path", "the ranks loaded different initial weights: every rank must read the same "
                                        "model.path")
