"""VDOTTrainer: one checkpointable object; `generator_step()` and `critic_step()` are separate (method.md, "Losses").

Iteration s (train_step): the generator updates when s % dfake_gen_update_ratio == 0, then the critic updates.
Parity of s picks the objective (loss.gan = false → always even):
  even: generator L_θ = otd_weight·L_OTD + dmd_weight·L_DMD;   critic: denoising loss of the fake score F_φ
  odd:  generator gan_g_weight·L_GAN(θ);                       critic: gan_d_weight·L_GAN(τ) (+ r1_weight·R1)
Real score F_ψ = frozen teacher with CFG (loss.guidance); fake score F_φ trainable; discriminator heads D_τ read the
fake score's hidden states at disc.blocks. Generator samples come from the Self-Forcing rollout (trainer/rollout.py).
A non-finite loss or gradient norm skips that optimiser step; it is logged and counted, training goes on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from uvc_data.configurable import to_dict
from vdot_train.data import TrainBatch, TrainData
from vdot_train.flow import add_noise, cfg as apply_cfg, sample_timesteps, student_schedule, x0_from_velocity
from vdot_train.losses.denoise import denoising_loss
from vdot_train.losses.dmd import dmd_gradient, dmd_loss
from vdot_train.losses.gan import (approx_r1_from_logits, nonsaturating_d, nonsaturating_g, r1_perturbed, relativistic_d,
                                   relativistic_g)
from vdot_train.losses.otd import otd_loss
from vdot_train.models.denoiser import Denoiser
from vdot_train.trainer import checkpoint as ckpt
from vdot_train.distributed import all_ranks_agree, is_main, load_full_optimizer_state, load_full_state_dict
from vdot_train.scale.dcp_checkpoint import ShardedCheckpointer, is_dcp_checkpoint
from vdot_train.trainer.common import EMA, JsonlLog, adam, autocast, frozen, is_finite, log, optimiser_step, warmup_scheduler
from vdot_train.trainer.config import TrainConfig
from vdot_train.trainer.rollout import draw_exit_step, rollout


@dataclass
class Nets:
    generator: Denoiser  # G_θ, trainable
    fake_score: Denoiser  # F_φ, trainable
    teacher: Denoiser  # F_ψ, frozen
    heads: nn.Module | None  # D_τ on F_φ's hidden states (None when loss.gan is off)


class VDOTTrainer:
    def __init__(self, cfg: TrainConfig, nets: Nets, data: TrainData, negative_emb: torch.Tensor,
                 device: torch.device, rank: int = 0):
        self.cfg, self.nets, self.data, self.device = cfg, nets, data, device
        self.negative_emb = negative_emb.to(device)  # [1, L, D]
        o = cfg.optim
        self.gen_params = [p for p in nets.generator.parameters() if p.requires_grad]
        self.critic_params = [p for p in nets.fake_score.parameters() if p.requires_grad]
        self.head_params = [p for p in nets.heads.parameters()] if nets.heads is not None else []
        self.opt_g = adam(self.gen_params, o.lr_generator, o.betas, o.weight_decay, o.eps, o.implementation)
        groups = [{"params": self.critic_params, "lr": o.lr_critic}]
        if self.head_params:
            groups.append({"params": self.head_params, "lr": o.lr_heads or o.lr_critic})
        self.opt_c = adam(groups, o.lr_critic, o.betas, o.weight_decay, o.eps, o.implementation)
        self.sched_g = warmup_scheduler(self.opt_g, o.warmup_steps)
        self.sched_c = warmup_scheduler(self.opt_c, o.warmup_steps)
        self.ema = EMA(nets.generator, cfg.run.ema_decay) if cfg.run.ema_decay > 0 else None
        self.rank = rank
        self.rng = torch.Generator(device=device)  # noise and timesteps: per rank, re-seeded every iteration
        self.shared_rng = torch.Generator(device=device)  # exit steps: identical on every rank (FSDP needs it)
        self.critic_modules = nn.ModuleDict({"fake_score": nets.fake_score, **({"heads": nets.heads}
                                                                               if nets.heads is not None else {})})
        sc = cfg.schedule
        self.schedule = student_schedule(sc.student_schedule, sc.student_steps, sc.label_shift,
                                         sc.sigma_shift).to(device)
        self._exit: tuple[int, int] = (-1, 0)  # (iteration, exit step k) drawn for that iteration
        self.step = 0
        self.counters = {"generator_updates": 0, "critic_updates": 0, "skipped_generator": 0, "skipped_critic": 0}
        self.logger = JsonlLog(cfg.run.out_dir)
        # gloo reduces CPU tensors, NCCL CUDA ones
        self._flag_device = device if device.type == "cuda" else torch.device("cpu")
        self.checkpointer = ShardedCheckpointer(f"{cfg.run.out_dir}/checkpoints", cfg.run.keep_checkpoints,
                                                cfg.run.async_checkpoint)

    # --- predictions -----------------------------------------------------------------------------------------------
    def _amp(self):
        return autocast(self.device, self.cfg.run.mixed_precision)

    def _generator_fn(self, batch: TrainBatch):
        g = self.nets.generator
        return lambda x, t: g(x, t, batch.text_emb, batch.context).velocity

    def exit_step(self) -> int:
        """This iteration's exit step k: drawn once per iteration (from the rank-shared RNG) and reused by the
        generator step, the critic step and every micro-batch, as the official trainer does."""
        if self._exit[0] != self.step:
            self._exit = (self.step, draw_exit_step(len(self.schedule), self.cfg.schedule.exit_step, self.shared_rng))
        return self._exit[1]

    def generate(self, batch: TrainBatch, grad: bool) -> tuple[torch.Tensor, int]:
        """x̂0 from the rollout at this iteration's exit step (noise drawn from the trainer's RNG)."""
        noise = torch.randn(batch.shape, generator=self.rng, device=self.device)
        k = self.exit_step()
        with self._amp():
            return rollout(self._generator_fn(batch), noise, self.schedule, k, self.rng, grad=grad), k

    def x0_real(self, x_t: torch.Tensor, t: torch.Tensor, batch: TrainBatch) -> torch.Tensor:
        """Teacher x0 with CFG on the velocity (method.md: uncond + s·(cond − uncond), then x0 = x_t − σ·v)."""
        te = self.nets.teacher
        with torch.no_grad(), self._amp():
            v_c = te(x_t, t, batch.text_emb, batch.context).velocity.float()
            if self.cfg.loss.guidance != 1.0:
                neg = self.negative_emb.expand(x_t.shape[0], -1, -1)
                v_u = te(x_t, t, neg, batch.context).velocity.float()
                v_c = apply_cfg(v_u, v_c, self.cfg.loss.guidance)
        return x0_from_velocity(x_t, v_c, t)

    def x0_fake(self, x_t: torch.Tensor, t: torch.Tensor, batch: TrainBatch) -> torch.Tensor:
        with torch.no_grad(), self._amp():
            v = self.nets.fake_score(x_t, t, batch.text_emb, batch.context).velocity.float()
        return x0_from_velocity(x_t, v, t)

    def logits(self, x_t: torch.Tensor, t: torch.Tensor, batch: TrainBatch) -> torch.Tensor:
        """D_τ(x_t, t): heads on the fake score's hidden states at disc.blocks and its time embedding."""
        assert self.nets.heads is not None
        with self._amp():
            out = self.nets.fake_score(x_t, t, batch.text_emb, batch.context,
                                       return_features=self.cfg.disc.blocks)
            return self.nets.heads([f.float() for f in out.features], out.temb.float())

    def joint_logits(self, xs: list[torch.Tensor], t: torch.Tensor, batch: TrainBatch) -> list[torch.Tensor]:
        """D_τ of several inputs at the same t in ONE forward, concatenated along the batch (the official critic's
        `torch.concatenate((noisy_fake, noisy_real))`), with the prompt embeddings and the VACE context repeated.

        One forward, not one per input, also matters for memory under FSDP: when a network's parameters take part in
        two forward graphs of one backward, autograd holds each parameter's first gradient, unsharded, until the second
        arrives — every rank would then hold the network's whole gradient at once (measured: +0.45 GiB per rank at the
        1.3B width with 2 + 1 blocks, docs/benchmarks.md)."""
        n = len(xs)
        rep = lambda x: None if x is None else torch.cat([x] * n)  # noqa: E731
        d = self.logits(torch.cat(xs), torch.cat([t] * n), replace(batch, text_emb=rep(batch.text_emb),
                                                                  context=rep(batch.context)))
        return list(d.chunk(n))

    def _draw_t(self, batch: int, gan: bool = False) -> torch.Tensor:
        """t for the DMD/OTD/denoising draws (shift 5, k in [20, 980)) or the GAN branch (shift 12, k in [0, 1000))."""
        lc = self.cfg.loss
        shift, (lo, hi) = (lc.critic_shift, lc.critic_t_draw) if gan else (lc.shift, lc.t_draw)
        return sample_timesteps(batch, shift, lc.t_min, lc.t_max, generator=self.rng, device=self.device,
                                draw_min=lo, draw_max=hi)

    def _score_draw(self, x0_hat: torch.Tensor, batch: TrainBatch):
        """One draw of (t, ε) at x̂0 and its three score evaluations: (t, x0_fake, x0_real with CFG)."""
        t = self._draw_t(x0_hat.shape[0])
        x_t = add_noise(x0_hat.detach(), self._noise_like(x0_hat), t)
        return t, self.x0_fake(x_t, t, batch), self.x0_real(x_t, t, batch)

    def _noise_like(self, x: torch.Tensor) -> torch.Tensor:
        return torch.randn(x.shape, generator=self.rng, device=x.device, dtype=torch.float32)

    def _real(self, batch: TrainBatch) -> torch.Tensor:
        if batch.real is None:
            raise RuntimeError("the GAN branch needs real clips but the batch has none (prompt-only data)")
        return batch.real.to(self.device).float()

    # --- objectives --------------------------------------------------------------------------------------------
    def is_even(self) -> bool:
        return not self.cfg.loss.gan or self.step % 2 == 0

    def generator_loss(self, batch: TrainBatch) -> tuple[torch.Tensor, dict[str, float]]:
        lc = self.cfg.loss
        x0_hat, k = self.generate(batch, grad=True)
        stats: dict[str, float] = {"exit_step": float(k)}
        if self.is_even():
            loss = x0_hat.new_zeros(())
            shared = self._score_draw(x0_hat, batch) if lc.share_score_draw else None
            if lc.dmd_weight > 0:  # official order: the DMD draw, then the OTD draw
                t, fake, real = shared or self._score_draw(x0_hat, batch)
                l_dmd = dmd_loss(x0_hat, dmd_gradient(fake, real, x0_hat, t, lc.dmd_normaliser))
                loss = loss + lc.dmd_weight * l_dmd
                stats.update({"dmd": float(l_dmd.detach()), "t_dmd": float(t.mean())})
            if lc.otd_weight > 0:
                t, fake, real = shared or self._score_draw(x0_hat, batch)
                l_otd, ot_stats = otd_loss(x0_hat, fake, real, lc.otd)
                loss = loss + lc.otd_weight * l_otd
                stats.update({"otd": float(l_otd.detach()), "t_otd": float(t.mean())})
                stats.update({f"ot_{k_}": float(v) for k_, v in ot_stats.items()})
            return loss, stats
        t = self._draw_t(x0_hat.shape[0], gan=True)
        x_fake = add_noise(x0_hat, self._noise_like(x0_hat), t)
        real = self._real(batch)
        x_real = add_noise(real, self._noise_like(real), t)  # official: its own noise here (same noise in the critic)
        with frozen(self.nets.fake_score, self.nets.heads):
            d_fake = self.logits(x_fake, t, batch)
            with torch.no_grad():
                d_real = self.logits(x_real, t, batch)
        l_gan = relativistic_g(d_fake, d_real) if lc.gan_loss == "relativistic" else nonsaturating_g(d_fake)
        stats.update({"gan_g": float(l_gan.detach()), "t": float(t.mean())})
        return lc.gan_g_weight * l_gan, stats

    def critic_loss(self, batch: TrainBatch) -> tuple[torch.Tensor, dict[str, float]]:
        lc = self.cfg.loss
        with torch.no_grad():
            x0_hat, _ = self.generate(batch, grad=False)
        if self.is_even():
            t = self._draw_t(x0_hat.shape[0])
            noise = self._noise_like(x0_hat)
            with self._amp():
                v = self.nets.fake_score(add_noise(x0_hat, noise, t), t, batch.text_emb, batch.context).velocity
            l_dn = denoising_loss(v, x0_hat, noise)
            return l_dn, {"denoise": float(l_dn.detach()), "t": float(t.mean())}
        t = self._draw_t(x0_hat.shape[0], gan=True)
        real = self._real(batch)
        if real.shape != x0_hat.shape:
            raise RuntimeError(f"real clips {tuple(real.shape)} and generator samples {tuple(x0_hat.shape)} differ in "
                               "shape: set data.resize=true so real clips take the generated size")
        noise = self._noise_like(x0_hat)  # official: the SAME noise for real and fake in the critic's GAN step
        x_fake, x_real = add_noise(x0_hat, noise, t), add_noise(real, noise, t)
        backbone = None if lc.gan_d_trains_backbone else self.nets.fake_score
        xs = [x_fake, x_real] + ([r1_perturbed(x_real, lc.r1_sigma, self.rng)] if lc.r1_weight > 0 else [])
        with frozen(backbone):
            d_fake, d_real, *d_perturbed = self.joint_logits(xs, t, batch)
            l_gan = relativistic_d(d_real, d_fake) if lc.gan_loss == "relativistic" else nonsaturating_d(d_real, d_fake)
            loss = lc.gan_d_weight * l_gan
            stats = {"gan_d": float(l_gan.detach()), "d_real": float(d_real.detach().mean()),
                     "d_fake": float(d_fake.detach().mean()),
                     "t": float(t.mean())}
            if lc.r1_weight > 0:  # GAN-3 on the real input; its perturbed copy rode in the same forward
                r1 = approx_r1_from_logits(d_real, d_perturbed[0])
                loss = loss + lc.r1_weight * r1
                stats["r1"] = float(r1.detach())
        return loss, stats

    # --- steps ---------------------------------------------------------------------------------------------------
    def _accumulate(self, loss_fn, which: str) -> tuple[bool, dict[str, float]]:
        """grad_accum micro-batches of `loss_fn`; returns (all losses finite, mean stats)."""
        n = self.cfg.schedule.grad_accum
        finite, totals = True, {}
        for _ in range(n):
            loss, stats = loss_fn(self.data.next_batch())
            # decided by all ranks together: a rank that skipped its backward alone would leave the others blocked
            # in the backward's reduce-scatter
            if not all_ranks_agree(is_finite(loss.detach()), self._flag_device):
                finite = False
                log.warning("step %d: non-finite %s loss on some rank (here %s); the update is skipped on every "
                            "rank", self.step, which, stats)
                continue
            (loss / n).backward()
            stats["loss"] = float(loss.detach())
            for k, v in stats.items():
                totals[k] = totals.get(k, 0.0) + v / n
        return finite, totals

    def generator_step(self) -> dict[str, float]:
        """One generator update (grad_accum micro-batches) with the critic frozen."""
        self.nets.generator.train()
        with frozen(self.nets.fake_score, self.nets.heads):
            finite, stats = self._accumulate(self.generator_loss, "generator")
        stepped, norm = False, float("nan")
        if finite:
            stepped, norm = optimiser_step(self.opt_g, self.gen_params, self.cfg.optim.grad_clip, self.sched_g)
        else:
            self.opt_g.zero_grad(set_to_none=True)
        if stepped:
            self.counters["generator_updates"] += 1
            if self.ema is not None:
                self.ema.update(self.nets.generator)
        else:
            self.counters["skipped_generator"] += 1
            log.warning("step %d: generator update skipped (finite loss: %s, grad norm %s)", self.step, finite, norm)
        return {**{f"g/{k}": v for k, v in stats.items()}, "g/grad_norm": norm, "g/skipped": float(not stepped)}

    def critic_step(self) -> dict[str, float]:
        """One critic update (fake score + discriminator heads) with the generator frozen."""
        with frozen(self.nets.generator):
            finite, stats = self._accumulate(self.critic_loss, "critic")
        params = self.critic_params + self.head_params
        stepped, norm = False, float("nan")
        if finite:
            stepped, norm = optimiser_step(self.opt_c, params, self.cfg.optim.grad_clip, self.sched_c)
        else:
            self.opt_c.zero_grad(set_to_none=True)
        if stepped:
            self.counters["critic_updates"] += 1
        else:
            self.counters["skipped_critic"] += 1
            log.warning("step %d: critic update skipped (finite loss: %s, grad norm %s)", self.step, finite, norm)
        return {**{f"c/{k}": v for k, v in stats.items()}, "c/grad_norm": norm, "c/skipped": float(not stepped)}

    def _seed_iteration(self) -> None:
        """RNG streams derived from (seed, rank, step): a resumed run draws exactly what a straight run draws."""
        seed = self.cfg.run.seed
        self.rng.manual_seed(int(np.random.SeedSequence([seed, self.rank, self.step]).generate_state(1)[0]))
        self.shared_rng.manual_seed(int(np.random.SeedSequence([seed, self.step, 1]).generate_state(1)[0]))

    def train_step(self) -> dict[str, Any]:
        """One iteration: generator every dfake_gen_update_ratio-th iteration, then the critic."""
        t0 = time.perf_counter()
        self._seed_iteration()
        record: dict[str, Any] = {"step": self.step, "parity": "even" if self.is_even() else "odd"}
        if self.step % self.cfg.schedule.dfake_gen_update_ratio == 0:
            record.update(self.generator_step())
        record.update(self.critic_step())
        record["seconds"] = time.perf_counter() - t0
        self.step += 1
        return record

    def fit(self, max_steps: int | None = None) -> list[dict[str, Any]]:
        run = self.cfg.run
        end = run.max_steps if max_steps is None else max_steps
        records = []
        while self.step < end:
            rec = self.train_step()
            records.append(rec)
            if is_main() and run.log_every and (rec["step"] % run.log_every == 0 or self.step == end):
                self.logger.write(rec)
                log.info("step %d %s", rec["step"], {k: round(v, 5) for k, v in rec.items()
                                                      if isinstance(v, float)})
            if run.ckpt_every and (self.step % run.ckpt_every == 0 or self.step == end):
                self.save()
        self.checkpointer.wait()
        return records

    # --- checkpoints ---------------------------------------------------------------------------------------------
    def app_state(self) -> dict[str, Any]:
        """What DCP saves: each rank's shards of every trained network (diffusers keys) and of both optimisers'
        states (keyed by parameter name, so they reshard); a collective under FSDP."""
        from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

        app: dict[str, Any] = {"generator": self.nets.generator.transformer.state_dict(),
                               "fake_score": self.nets.fake_score.transformer.state_dict(),
                               "opt_g": get_optimizer_state_dict(self.nets.generator, self.opt_g),
                               "opt_c": get_optimizer_state_dict(self.critic_modules, self.opt_c)}
        if self.nets.heads is not None:
            app["disc_heads"] = self.nets.heads.state_dict()
        if self.ema is not None:
            app["generator_ema"] = {k.removeprefix("transformer."): v for k, v in self.ema.state_dict().items()}
        return app

    def plain_state(self) -> dict[str, Any]:
        """Replicated plain state (rank 0 writes it): equal on every rank by construction."""
        return {"step": self.step, "counters": dict(self.counters), "sched_g": self.sched_g.state_dict(),
                "sched_c": self.sched_c.state_dict(), "data": self.data.state_dict(), "world": self._world()}

    @staticmethod
    def _world() -> int:
        import torch.distributed as dist

        return dist.get_world_size() if dist.is_initialized() else 1

    def save(self) -> str:
        """A sharded checkpoint (every rank calls it): vdot_train.scale.dcp_checkpoint."""
        path = self.checkpointer.save(self.step, self.app_state(), self.plain_state(), to_dict(self.cfg))
        if is_main():
            log.info("checkpoint %s%s", path, " (writing in the background)" if self.cfg.run.async_checkpoint else "")
        return str(path)

    def load(self, path: str) -> None:
        if not is_dcp_checkpoint(path):
            return self._load_legacy(path)
        from torch.distributed.checkpoint.state_dict import set_optimizer_state_dict

        from vdot_train.scale.dcp_checkpoint import checkpoint_keys, drop_unsaved_optimizer_state

        app = self.app_state()
        state = ShardedCheckpointer.load(path, app, optional=("opt_g", "opt_c"))
        self.nets.generator.transformer.load_state_dict(app["generator"])
        self.nets.fake_score.transformer.load_state_dict(app["fake_score"])
        if self.nets.heads is not None:
            self.nets.heads.load_state_dict(app["disc_heads"])
        if self.ema is not None and "generator_ema" in app:
            self.ema.load_state_dict({f"transformer.{k}": v for k, v in app["generator_ema"].items()})
        set_optimizer_state_dict(self.nets.generator, self.opt_g, app["opt_g"])
        set_optimizer_state_dict(self.critic_modules, self.opt_c, app["opt_c"])
        present = checkpoint_keys(path)
        drop_unsaved_optimizer_state(self.opt_g, self.nets.generator, "opt_g", present)
        drop_unsaved_optimizer_state(self.opt_c, self.critic_modules, "opt_c", present)
        self._load_plain(state)

    def _load_plain(self, state: dict[str, Any]) -> None:
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_c.load_state_dict(state["sched_c"])
        self.data.load_state_dict(state["data"])
        self.step = int(state["step"])
        self.counters.update(state["counters"])

    def _load_legacy(self, path: str) -> None:
        """A checkpoint of the earlier full-weights layout (generator.safetensors …, optimisers in state.pt)."""
        weights, state = ckpt.load_checkpoint(path)
        load_full_state_dict(self.nets.generator.transformer, weights["generator"])
        load_full_state_dict(self.nets.fake_score.transformer, weights["fake_score"])
        if self.nets.heads is not None:
            load_full_state_dict(self.nets.heads, weights["disc_heads"])
        if self.ema is not None and "generator_ema" in weights:
            self.ema.load_state_dict({f"transformer.{k}": v for k, v in weights["generator_ema"].items()})
        load_full_optimizer_state(self.nets.generator, self.opt_g, state["opt_g"])
        load_full_optimizer_state(self.critic_modules, self.opt_c, state["opt_c"])
        self._load_plain(state)
