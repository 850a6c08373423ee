"""Training loop of the 2-D experiment: a few-step MLP generator distilled from the exact GMM denoiser.

Per iteration i (method.md "Losses", TTUR ratio `gen_every`):
  critic:    fake score φ ← denoising loss (DN-1) on generator samples; with the GAN on, odd i train D instead (GAN-1)
  generator: every `gen_every`-th i; L = w_otd·L_OTD + w_dmd·L_DMD (even i) or w_gan·L_GAN (odd i, GAN on)
Generator samples come from a Self-Forcing rollout: random exit step k, steps before k without grad, re-noise between.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from vdot_train.experiments.gmm_target import GaussianMixture2D
from vdot_train.flow import add_noise, renoise, sample_timesteps, student_timesteps, x0_from_velocity
from vdot_train.losses.denoise import denoising_loss
from vdot_train.losses.dmd import dmd_gradient, dmd_loss
from vdot_train.losses.gan import relativistic_d, relativistic_g
from vdot_train.losses.otd import OTDConfig, otd_loss

METHODS = {
    "dmd": dict(w_dmd=1.0, w_otd=0.0, gan=False),
    "otd": dict(w_dmd=0.0, w_otd=1.0, gan=False),
    "otd+dmd": dict(w_dmd=0.2, w_otd=0.8, gan=False),  # official even-step weights
    "otd+dmd+gan": dict(w_dmd=0.2, w_otd=0.8, gan=True),
}


@dataclass
class GMM2DConfig:
    method: str = "otd+dmd"
    steps: tuple[int, ...] = (1000, 500)  # student steps before the shift
    shift: float = 1.0  # 2-D data: no resolution shift (official latents: 5)
    gan_shift: float = 1.0  # official: 12
    iters: int = 8000  # critic iterations
    gen_every: int = 2  # TTUR ratio (official dfake_gen_update_ratio 5; 2 here, see docs/experiments.md)
    warmup: int = 300  # fake-score iterations on the initial generator (stands in for "initialise from teacher")
    batch: int = 128
    hidden: int = 128
    lr_gen: float = 1e-3
    lr_critic: float = 1e-3
    dmd_normaliser: str = "none"  # official "t_over_1000" starves the low-noise steps in 2-D (docs/experiments.md)
    otd: OTDConfig = field(default_factory=lambda: OTDConfig(points="batch"))
    gan_weight: float = 0.1
    betas: tuple[float, float] = (0.0, 0.999)  # official Adam betas
    shared_t: bool = True  # one t for the whole batch in the DMD/OTD step (as all tokens of a latent frame share t)
    seed: int = 0

    def validate(self) -> None:
        from uvc_data.errors import ConfigError, UnknownNameError

        if self.method not in METHODS:
            raise ConfigError("method", str(UnknownNameError("method", self.method, list(METHODS))))
        if self.gen_every < 1 or self.iters < 1 or self.batch < 2:
            raise ConfigError("iters/gen_every/batch", "must be >= 1 (batch >= 2)")


def time_features(t: Tensor) -> Tensor:
    """[B] timesteps → [B, 9]: σ and sin/cos of σ at 4 frequencies."""
    sigma = (t / 1000).unsqueeze(-1)
    freqs = torch.tensor([1.0, 2.0, 4.0, 8.0], device=t.device) * math.pi
    return torch.cat([sigma, torch.sin(sigma * freqs), torch.cos(sigma * freqs)], dim=-1)


class MLP(nn.Module):
    """(x [B, 2], t [B]) → [B, out]."""

    def __init__(self, hidden: int, out: int = 2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2 + 9, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, out))

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return self.net(torch.cat([x, time_features(t)], dim=-1))


class FlowNet(MLP):
    """Velocity network; `x0(x_t, t)` = x_t − σ·v (FM-3)."""

    def x0(self, x_t: Tensor, t: Tensor) -> Tensor:
        return x0_from_velocity(x_t, self(x_t, t), t)


def rollout(gen: FlowNet, t_steps: Tensor, batch: int, g: torch.Generator, exit_step: int | None = None) -> Tensor:
    """Self-Forcing rollout: steps < exit without grad, the exit step with grad; None = all steps, no grad."""
    last = len(t_steps) - 1 if exit_step is None else exit_step
    x = torch.randn(batch, 2, generator=g)
    for k in range(last + 1):
        t = t_steps[k].expand(batch)
        if k < last or exit_step is None:
            with torch.no_grad():
                x0 = gen.x0(x, t)
            if k < last:
                x = renoise(x0, t_steps[k + 1].expand(batch), generator=g)
        else:
            x0 = gen.x0(x, t)
    return x0


@dataclass
class Trained:
    gen: FlowNet
    t_steps: Tensor
    history: list[dict[str, float]]


def _critic_denoise(fake: FlowNet, opt: torch.optim.Optimizer, x0: Tensor, cfg: GMM2DConfig, g) -> float:
    t = sample_timesteps(x0.shape[0], cfg.shift, generator=g)
    noise = torch.randn(x0.shape, generator=g)
    loss = denoising_loss(fake(add_noise(x0, noise, t), t), x0, noise)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())


def _noised_pair(x_fake: Tensor, x_real: Tensor, cfg: GMM2DConfig, g) -> tuple[Tensor, Tensor, Tensor]:
    t = sample_timesteps(x_fake.shape[0], cfg.gan_shift, generator=g)  # same t for real and fake
    xf = add_noise(x_fake, torch.randn(x_fake.shape, generator=g), t)
    xr = add_noise(x_real, torch.randn(x_real.shape, generator=g), t)
    return xf, xr, t


def train(cfg: GMM2DConfig, target: GaussianMixture2D) -> Trained:
    """Run one method for cfg.iters critic iterations; returns the generator and a loss history."""
    cfg.validate()
    spec = METHODS[cfg.method]
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    gen, fake = FlowNet(cfg.hidden), FlowNet(cfg.hidden)
    disc = MLP(cfg.hidden, out=1) if spec["gan"] else None
    betas = cfg.betas
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.lr_gen, betas=betas)
    opt_f = torch.optim.Adam(fake.parameters(), lr=cfg.lr_critic, betas=betas)
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.lr_critic, betas=betas) if disc else None
    t_steps = student_timesteps(cfg.steps, cfg.shift)
    history: list[dict[str, float]] = []
    for _ in range(cfg.warmup):
        with torch.no_grad():
            x0 = rollout(gen, t_steps, cfg.batch, g, exit_step=int(torch.randint(len(t_steps), (1,), generator=g)))
        _critic_denoise(fake, opt_f, x0, cfg, g)
    for i in range(cfg.iters):
        # official parity alternation; with an even TTUR ratio every generator step would land on an even i
        # (no GAN generator step ever), so the parity then alternates over blocks of gen_every iterations
        odd = spec["gan"] and (i % 2 == 1 if cfg.gen_every % 2 else (i // cfg.gen_every) % 2 == 1)
        with torch.no_grad():
            x0 = rollout(gen, t_steps, cfg.batch, g, exit_step=int(torch.randint(len(t_steps), (1,), generator=g)))
        rec: dict[str, float] = {"iter": float(i)}
        if odd:  # critic: discriminator (GAN-1)
            xf, xr, t = _noised_pair(x0, target.sample(cfg.batch, g), cfg, g)
            loss_d = relativistic_d(disc(xr, t).squeeze(-1), disc(xf, t).squeeze(-1))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            rec["loss_d"] = float(loss_d.detach())
        else:  # critic: fake score (DN-1)
            rec["loss_fake"] = _critic_denoise(fake, opt_f, x0, cfg, g)
        if i % cfg.gen_every == 0:
            exit_step = int(torch.randint(len(t_steps), (1,), generator=g))
            x0_hat = rollout(gen, t_steps, cfg.batch, g, exit_step=exit_step)
            if odd:
                xf, xr, t = _noised_pair(x0_hat, target.sample(cfg.batch, g), cfg, g)
                loss = cfg.gan_weight * relativistic_g(disc(xf, t).squeeze(-1), disc(xr, t).squeeze(-1))
                rec["loss_g_gan"] = float(loss.detach())
            else:
                t = sample_timesteps(1 if cfg.shared_t else cfg.batch, cfg.shift, generator=g).expand(cfg.batch)
                x_t = add_noise(x0_hat.detach(), torch.randn(x0_hat.shape, generator=g), t)
                with torch.no_grad():
                    x0_fake = fake.x0(x_t, t)
                    x0_real = target.posterior_x0(x_t, t)
                loss = x0_hat.new_zeros(())
                if spec["w_dmd"]:
                    grad = dmd_gradient(x0_fake, x0_real, x0_hat, t, cfg.dmd_normaliser)  # type: ignore[arg-type]
                    loss = loss + spec["w_dmd"] * dmd_loss(x0_hat, grad)
                if spec["w_otd"]:
                    l_otd, stats = otd_loss(x0_hat, x0_fake, x0_real, cfg.otd)
                    loss = loss + spec["w_otd"] * l_otd
                    rec["W"] = stats["W"]
                rec["loss_g"] = float(loss.detach())
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
        history.append(rec)
    return Trained(gen=gen, t_steps=t_steps, history=history)


def sample(trained: Trained, n: int, seed: int = 123) -> Tensor:
    """n samples from the full few-step sampler, [n, 2]."""
    return rollout(trained.gen, trained.t_steps, n, torch.Generator().manual_seed(seed), exit_step=None)
