"""The faithful small-scale OTD experiment: the VDOT trainer itself (VDOTTrainer: its parity alternation, rollout over
the official student schedule, DMD, per-frame OTD, GAN and fake-score steps) distils a few-step generator of token
clouds (token_clouds.py) from the exact real score. Only the networks are small (token_nets.py) and the data are
token clouds; every loss, reduction, weight and schedule is the trainer's own.

    python -m vdot_train.experiments.otd_toy --out docs --seeds 0 1 2 3 4 --jobs 2

Each sample is a latent frame [D=2, 1, 4, 4] of K = 16 tokens; OTD transports the 16 tokens of each sample's fake-score
x0 prediction onto the real score's (`OTDConfig(points="frame", pool=1)`), ε given relative to the typical squared
token spacing δ² of the data. Per seed one network is first trained by flow matching on the data (the "teacher" the
generator and fake score are initialised from, as VDOT initialises both from the teacher); the real score is exact.
"""
from __future__ import annotations

import argparse
import copy
import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from vdot_train.data import TrainBatch
from vdot_train.experiments.token_clouds import ExactTeacher, TokenCloudMixture, cloud_metrics
from vdot_train.experiments.token_nets import TokenDenoiser
from vdot_train.flow import add_noise, sample_timesteps
from vdot_train.losses.denoise import denoising_loss
from vdot_train.losses.otd import OTDConfig
from vdot_train.losses.sinkhorn import sinkhorn_log
from vdot_train.models.disc_heads import build_disc_heads
from vdot_train.trainer.config import DiscConfig, LossConfig, OptimConfig, RunConfig, ScheduleConfig, TrainConfig
from vdot_train.trainer.rollout import rollout
from vdot_train.trainer.vdot import Nets, VDOTTrainer

# (DMD weight, OTD weight, GAN) — the official even-step weights are 0.2·DMD + 0.8·OTD, GAN 0.1
METHODS = {"dmd": (1.0, 0.0, False), "otd": (0.0, 1.0, False), "otd+dmd": (0.2, 0.8, False),
           "otd+dmd+gan": (0.2, 0.8, True), "otd+dmd rescaled": (0.2, 0.8, False), "otd+dmd batch-cloud": (0.2, 0.8, False)}
EPS_REL = (0.03, 0.3, 3.0)  # ε / δ²


@dataclass
class ToyConfig:
    method: str = "otd+dmd"
    eps_rel: float = 0.03
    dmd_scale: float = 1.0  # multiplies the DMD weight (the rescaled variant)
    iters: int = 600  # trainer iterations (generator every 5th, official ratio)
    batch: int = 32
    lr: float = 3e-4  # generator and critic (toy scale; official 1e-6 / 4e-7 at 14B)
    pretrain_iters: int = 800
    seed: int = 0
    eval_n: int = 512
    std: float = 0.1  # per-token jitter s of the target
    batch_cloud: bool = False  # also run OTD over the batch as one cloud (the earlier 2-D set-up)


class TokenCloudData:
    """The trainer's data interface (`next_batch`, a state) over the token-cloud target: real clips for the GAN."""

    def __init__(self, target: TokenCloudMixture, batch: int, seed: int):
        self.target, self.batch = target, batch
        self.gen = torch.Generator().manual_seed(seed + 10_000)

    def next_batch(self) -> TrainBatch:
        return batch_of(self.target, self.batch, self.target.sample(self.batch, self.gen))

    def state_dict(self) -> dict:
        return {"rng": self.gen.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.gen.set_state(state["rng"])


def batch_of(target: TokenCloudMixture, n: int, real: torch.Tensor | None = None) -> TrainBatch:
    return TrainBatch(prompts=[""] * n, tasks=["t2v"] * n, text_emb=torch.zeros(n, 1, 1), context=None, real=real,
                      shape=(n, *target.latent_shape))


def pretrain(target: TokenCloudMixture, cfg: ToyConfig) -> TokenDenoiser:
    """Flow-matching training of the initial network on the data (shift 5 draws, as the trainer's)."""
    torch.manual_seed(cfg.seed)
    net = TokenDenoiser(tokens=target.side**2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(cfg.seed)
    for _ in range(cfg.pretrain_iters):
        x0 = target.sample(64, g)
        t = sample_timesteps(64, 5.0, generator=g, draw_min=20, draw_max=980)
        noise = torch.randn(x0.shape, generator=g)
        loss = denoising_loss(net(add_noise(x0, noise, t), t).velocity, x0, noise)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net


def train_config(cfg: ToyConfig, eps: float) -> TrainConfig:
    w_dmd, w_otd, gan = METHODS[cfg.method]
    otd = OTDConfig(eps=eps, pool=1, points="batch" if cfg.method.endswith("batch-cloud") else "frame")
    tc = TrainConfig(
        optim=OptimConfig(lr_generator=cfg.lr, lr_critic=cfg.lr),
        # the exact real score is unconditional: CFG would return it unchanged, so guidance 1 skips the uncond call
        loss=LossConfig(dmd_weight=w_dmd * cfg.dmd_scale, otd_weight=w_otd, gan=gan, guidance=1.0, otd=otd),
        schedule=ScheduleConfig(grad_accum=1),
        disc=DiscConfig(blocks=(0, 1, 2), reg_dim=32, attn_heads=4, ffn_dim=128),
        run=RunConfig(out_dir="", seed=cfg.seed, device="cpu", mixed_precision="no", gradient_checkpointing=False),
    )
    for part in (tc.optim, tc.loss, tc.schedule, tc.disc, otd):
        part.validate()
    return tc


def build_trainer(cfg: ToyConfig, init: TokenDenoiser, target: TokenCloudMixture, out_dir: str) -> VDOTTrainer:
    eps = cfg.eps_rel * target.token_spacing_sq()
    tc = train_config(cfg, eps)
    tc.run.out_dir = out_dir
    torch.manual_seed(cfg.seed)
    heads = build_disc_heads(tc.disc, init.dim, init.dim) if tc.loss.gan else None
    nets = Nets(generator=copy.deepcopy(init).train(), fake_score=copy.deepcopy(init).train(),
                teacher=ExactTeacher(target), heads=heads)
    return VDOTTrainer(tc, nets, TokenCloudData(target, cfg.batch, cfg.seed), torch.zeros(1, 1, 1),
                       torch.device("cpu"))


@torch.no_grad()
def sample(trainer: VDOTTrainer, target: TokenCloudMixture, n: int, seed: int = 123) -> torch.Tensor:
    """n clouds from the full 4-step sampler over the trainer's schedule (the rollout with its last step as exit)."""
    g = torch.Generator().manual_seed(seed)
    b = batch_of(target, n)
    noise = torch.randn(b.shape, generator=g)
    return rollout(trainer._generator_fn(b), noise, trainer.schedule, len(trainer.schedule) - 1, g, grad=False)


def gradient_sizes(records: list[dict], numel: int, w_dmd: float, w_otd: float) -> dict[str, float]:
    """Median per-element RMS gradient w.r.t. x̂0 of w·DMD (½·mean(∇²) → √(2L)/n) and w·OTD (½·Σ(α∇)² → √(2L/n))."""
    dmd = [w_dmd * (2 * r["g/dmd"]) ** 0.5 / numel for r in records if "g/dmd" in r]
    otd = [w_otd * (2 * r["g/otd"] / numel) ** 0.5 for r in records if "g/otd" in r]
    return {"grad_dmd": float(np.median(dmd)) if dmd else float("nan"),
            "grad_otd": float(np.median(otd)) if otd else float("nan")}


def plan_sharpness(target: TokenCloudMixture, eps: float, iters: int = 60) -> float:
    """Mean over tokens of K·max_j T_ij between two data clouds of the same shape (1 = a permutation)."""
    g = torch.Generator().manual_seed(0)
    a = target.to_clouds(target.sample(256, g, stratified=True))
    b = target.to_clouds(target.sample(256, g, stratified=True))
    plan = sinkhorn_log(a, b, eps=eps, iters=iters).plan
    return float((plan.max(-1).values * a.shape[1]).mean())


def run_one(cfg: ToyConfig, init_state: dict | None = None) -> dict:
    target = TokenCloudMixture.default(std=cfg.std)
    t0 = time.perf_counter()
    init = pretrain(target, cfg) if init_state is None else _net_from(init_state, target)
    import tempfile

    with tempfile.TemporaryDirectory() as td:
        tr = build_trainer(cfg, init, target, td)
        records = [tr.train_step() for _ in range(cfg.iters)]
    w_dmd, w_otd, _ = METHODS[cfg.method]
    numel = cfg.batch * int(np.prod(target.latent_shape))
    out = {"method": cfg.method, "eps_rel": cfg.eps_rel, "seed": cfg.seed, "dmd_scale": cfg.dmd_scale,
           **gradient_sizes(records, numel, w_dmd * cfg.dmd_scale, w_otd),
           **cloud_metrics(target, sample(tr, target, cfg.eval_n)), "train_s": time.perf_counter() - t0,
           "skipped": tr.counters["skipped_generator"] + tr.counters["skipped_critic"]}
    out["samples"] = sample(tr, target, 48, seed=7).tolist() if cfg.seed == 0 else None
    return out


def _net_from(state: dict, target: TokenCloudMixture) -> TokenDenoiser:
    net = TokenDenoiser(tokens=target.side**2)
    net.load_state_dict(state)
    return net


def seed_runs(seed: int, base: ToyConfig) -> list[dict]:
    """Every row of one seed, from one pretrained initial network, the same budget for every method."""
    target = TokenCloudMixture.default(std=base.std)
    init = pretrain(target, replace(base, seed=seed)).state_dict()
    rows = []

    def go(method, eps_rel, scale=1.0):
        rows.append(run_one(replace(base, method=method, eps_rel=eps_rel, dmd_scale=scale, seed=seed), init))
        return rows[-1]

    go("dmd", EPS_REL[0])
    for e in EPS_REL:
        go("otd", e)
        plain = go("otd+dmd", e)
        if e == EPS_REL[0]:  # the latent regime: the plan is nearly a permutation
            go("otd+dmd+gan", e)
            go("otd+dmd rescaled", e, scale=plain["grad_otd"] / plain["grad_dmd"])
    if base.batch_cloud:
        go("otd+dmd batch-cloud", EPS_REL[1])
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("docs"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--iters", type=int, default=ToyConfig.iters)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--batch-cloud", action="store_true", help="also the batch-as-one-cloud row")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    base = ToyConfig(iters=args.iters, batch_cloud=args.batch_cloud)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as ex:
        rows = [r for rs in ex.map(seed_runs, args.seeds, [base] * len(args.seeds)) for r in rs]
    target = TokenCloudMixture.default(std=base.std)
    ref = cloud_metrics(target, target.sample(base.eval_n, torch.Generator().manual_seed(99)))
    d2 = target.token_spacing_sq()
    sharp = {e: plan_sharpness(target, e * d2) for e in EPS_REL}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "otd_toy.json").write_text(json.dumps(
        {"rows": [{k: v for k, v in r.items() if k != "samples"} for r in rows], "reference": ref,
         "token_spacing_sq": d2, "plan_sharpness": sharp, "wall_s": time.perf_counter() - t0,
         "config": base.__dict__}, indent=1))
    from vdot_train.experiments.otd_toy_report import plot, table

    plot(rows, target, args.out / "img" / "otd_toy.png")
    print(table(rows, ref, d2, sharp))
    print(f"wall {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
