"""Typed configs of the VDOT trainer. Defaults are the official settings (method.md); every deviation is a named field.

Load with uvc_data.configurable (TOML/JSON + `--set a.b=c`); `validate()` names the field to change.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from uvc_data.errors import ConfigError
from uvc_data.prompts import WAN_NEGATIVE_PROMPT
from vdot_train.losses.otd import OTDConfig
from vdot_train.models.bundle import ModelConfig


@dataclass
class OptimConfig:
    lr_generator: float = 2e-6  # phase 1: 2e-6, phase 2: 1e-6
    lr_critic: float = 4e-7  # fake score and discriminator heads
    lr_heads: float = 0.0  # 0 = lr_critic
    betas: tuple[float, float] = (0.0, 0.999)
    weight_decay: float = 0.01
    eps: float = 1e-8
    grad_clip: float = 5.0  # max grad norm of generator and critic (official max_grad_norm_*: 5.0); 0 = off
    warmup_steps: int = 0  # linear warm-up of both lrs (optimiser steps)
    # AdamW kernel: "fused" (no step temporaries) | "foreach" (torch's CUDA default, which the official code runs;
    # same update up to rounding, plus a temporary of the local parameters' size) | "for-loop" | "default" (torch's)
    implementation: Literal["fused", "foreach", "for-loop", "default"] = "fused"

    def validate(self) -> None:
        if self.lr_generator <= 0 or self.lr_critic <= 0:
            raise ConfigError("optim.lr_generator / optim.lr_critic", "learning rates must be > 0")
        if not (0 <= self.betas[0] < 1 and 0 <= self.betas[1] < 1):
            raise ConfigError("optim.betas", f"each beta must be in [0, 1), got {self.betas}")


@dataclass
class LossConfig:
    dmd_weight: float = 0.2  # λ: even generator step = otd_weight·OTD + dmd_weight·DMD
    otd_weight: float = 0.8
    gan: bool = True  # odd steps: GAN-G / GAN-D; off = every step is the even (DMD/OTD + denoising) step
    gan_g_weight: float = 0.1
    gan_d_weight: float = 0.1
    gan_loss: Literal["relativistic", "nonsaturating"] = "relativistic"
    gan_d_trains_backbone: bool = True  # GAN-D gradient also updates the fake-score backbone (heads share it)
    r1_weight: float = 0.0  # approximate R1 on real inputs (official: off)
    r1_sigma: float = 0.05  # perturbation σ of the approximate R1 (official `r1_sigma: 0.05`)
    dmd_normaliser: Literal["t_over_1000", "mean_abs", "none"] = "t_over_1000"  # official VDOT vs DMD2/Self-Forcing
    guidance: float = 3.0  # real score CFG
    negative_prompt: str = WAN_NEGATIVE_PROMPT  # official: Wan's standard negative prompt; "" = none
    shift: float = 5.0  # timestep shift of the DMD/OTD/denoising draws
    critic_shift: float = 12.0  # timestep shift of the GAN branch
    t_min: float = 20.0  # clamp after the shift (both branches)
    t_max: float = 980.0
    # integer range k ~ U[lo, hi) drawn BEFORE the shift (official: [20, 980) for DMD/OTD/denoising, [0, 1000) for
    # the GAN branch); (0, 1000) for DMD/OTD is the earlier clamp-only draw (≈ 2 % of t then fall below 92.6)
    t_draw: tuple[int, int] = (20, 980)
    critic_t_draw: tuple[int, int] = (0, 1000)
    # False (official): DMD and OTD each draw their own t and noise and run their own three score evaluations;
    # True: one draw and one set of evaluations feed both terms (saves three forwards per generator micro-batch)
    share_score_draw: bool = False
    otd: OTDConfig = field(default_factory=OTDConfig)  # official: ε 0.1, 60 iterations, 2×2 pool, α 0.1

    def validate(self) -> None:
        if self.dmd_weight < 0 or self.otd_weight < 0 or self.dmd_weight + self.otd_weight == 0:
            raise ConfigError("loss.dmd_weight / loss.otd_weight", "weights must be ≥ 0 and not both 0")
        if self.guidance < 1.0:
            raise ConfigError("loss.guidance", "the real score's CFG scale must be ≥ 1 (official 3.0)")
        if self.r1_weight < 0:
            raise ConfigError("loss.r1_weight", f"must be ≥ 0 (official 0 = off), got {self.r1_weight}")
        if self.r1_weight > 0 and not self.r1_sigma > 0:
            raise ConfigError("loss.r1_sigma", f"the R1 perturbation must be > 0 (official 0.05), got {self.r1_sigma}")
        for name, (lo, hi) in (("loss.t_draw", self.t_draw), ("loss.critic_t_draw", self.critic_t_draw)):
            if not 0 <= lo < hi <= 1000:
                raise ConfigError(name, f"need 0 <= lo < hi <= 1000 (official (20, 980) / (0, 1000)), got {(lo, hi)}")


@dataclass
class ScheduleConfig:
    dfake_gen_update_ratio: int = 5  # generator updates every N-th iteration, critic every iteration
    grad_accum: int = 3
    student_steps: tuple[int, ...] = (1000, 750, 500, 250)
    # official: the generator is called with the shift-8 labels [1000, 960, 888.9, 727.3] (x0 with σ = label/1000)
    # while the rollout re-noises to the shift-16 levels σ ≈ [1, 0.980, 0.942, 0.841]; consistent: labels = noise
    # levels = the sampler's UniPC shift-16 steps (flow.student_schedule)
    student_schedule: Literal["official", "consistent"] = "official"
    label_shift: float = 8.0  # official: the labels are the shift-8 warp (hard-coded in the official rollout)
    sigma_shift: float = 16.0  # official: the generator scheduler's set_timesteps(1000, shift=16)
    exit_step: int = -1  # -1 = random exit step per iteration, shared by all its micro-batches; k = always step k

    def validate(self) -> None:
        if self.dfake_gen_update_ratio < 1:
            raise ConfigError("schedule.dfake_gen_update_ratio", "must be ≥ 1")
        if self.grad_accum < 1:
            raise ConfigError("schedule.grad_accum", "must be ≥ 1")
        if self.exit_step >= len(self.student_steps):
            raise ConfigError("schedule.exit_step", f"must be < {len(self.student_steps)} or -1 (random)")
        if self.student_schedule not in ("official", "consistent"):
            raise ConfigError("schedule.student_schedule",
                              f"must be 'official' or 'consistent', got {self.student_schedule!r}")


@dataclass
class DiscConfig:
    """Discriminator heads D_τ (models/disc_heads.py). Defaults: the official architecture (≈ 246 M parameters at 14B)."""

    blocks: tuple[int, ...] = (23, 31, 39)  # 40-block 14B; (13, 21, 29) for the 30-block 1.3B
    # official: MLP proj-in/out, qk-RMS-normed cross-attention, FFN ffn_dim; compact: the earlier ≈ 7× smaller head
    # (linear projections, no qk-norm, FFN 4·reg_dim, final MLP width reg_dim)
    head: Literal["official", "compact"] = "official"
    reg_dim: int = 512
    attn_heads: int = 8
    ffn_dim: int = 13824  # official FFN width of each head (official head only; compact uses 4·reg_dim)
    time_scale: float = 10.0

    def validate(self) -> None:
        if self.head not in ("official", "compact"):
            raise ConfigError("disc.head", f"must be 'official' or 'compact', got {self.head!r}")
        if self.reg_dim % self.attn_heads != 0:
            raise ConfigError("disc.reg_dim", f"{self.reg_dim} must be divisible by disc.attn_heads={self.attn_heads}")


@dataclass
class DataConfig:
    shards: list[str] = field(default_factory=list)  # WebDataset tars / globs / dirs (uvc_data.shards)
    prompts_file: str = ""  # phase 1: one prompt per line (used when `shards` is empty)
    tasks: list[str] = field(default_factory=list)  # tasks to train; [] = every task a sample serves
    batch_size: int = 1
    num_frames: int = 81  # prompt-only data: frames of the generated clip
    height: int = 480
    width: int = 832
    seed: int = 0
    # samples of another size are resized to (num_frames, height, width): evenly spaced frames, cover + centre crop
    resize: bool = True
    # keys to never train on, one per line: a UVCBench suite's holdout.txt (`uvc bench build-suite`)
    exclude_keys_file: str = ""
    # a captions side table (`uvc data recaption OUT` writes OUT/captions.parquet): its prompts replace the shards'
    # own for the keys it captioned; samples whose new caption was rejected keep the shard's caption
    captions_file: str = ""
    # side tables of `uvc data rerun` / `uvc data recaption` (uvc_data.side_tables), applied in stage order over each
    # sample's own json: new prompts, tasks, verdicts and signals; the clips they reject are left out like held-out
    # keys. None: those of the out dir each shards folder `OUT/shards` is in (OUT/side/*.parquet, if any); [] none;
    # else out dirs, side/ folders or .parquet files
    side_tables: list[str] | None = None
    # samples read from the shards and decoded ahead on a background thread, overlapping with the training step
    prefetch: int = 2
    # each epoch's order: "samples" = a seeded permutation of every sample of every shard (as a shuffling sampler over
    # the whole dataset); "shards" = the shards in a seeded order, the samples of each in file order
    shuffle: Literal["samples", "shards"] = "samples"

    def validate(self) -> None:
        if self.batch_size < 1:
            raise ConfigError("data.batch_size", "must be ≥ 1")
        if self.shuffle not in ("samples", "shards"):
            raise ConfigError("data.shuffle", f"must be 'samples' or 'shards', got {self.shuffle!r}")
        if self.prefetch < 0:
            raise ConfigError("data.prefetch", "must be ≥ 0 (0 = read in the training loop)")
        if self.captions_file and "://" not in self.captions_file and not os.path.isfile(self.captions_file):
            raise ConfigError("data.captions_file", f"{self.captions_file} does not exist: give the captions.parquet "
                                                    "that `uvc data recaption OUT` wrote (OUT/captions.parquet)")
        for path in self.side_tables or []:
            if "://" not in path and not os.path.exists(path):
                raise ConfigError("data.side_tables", f"{path} does not exist: give the out dir of a build that "
                                                      "`uvc data rerun` ran on (or its side/*.parquet files)")
        if min(self.num_frames, self.height, self.width) < 1:
            raise ConfigError("data.num_frames", "num_frames, height and width must be ≥ 1")


@dataclass
class RunConfig:
    out_dir: str = "runs/vdot"
    max_steps: int = 1500  # iterations (phase 1: 1500, phase 2: 1200)
    log_every: int = 10
    ckpt_every: int = 100
    keep_checkpoints: int = 3
    seed: int = 0
    device: str = "auto"  # auto = cuda when available
    mixed_precision: Literal["bf16", "no"] = "bf16"  # autocast where the device supports it
    gradient_checkpointing: bool = True
    ema_decay: float = 0.0  # 0 = no EMA of the generator
    # write checkpoints in the background (torch.distributed.checkpoint.async_save): training goes on while the
    # shards are written; the checkpoint is renamed into place when done
    async_checkpoint: bool = False


@dataclass
class InitConfig:
    """Generator initialisation. AccWanInit: main blocks from a few-step T2V checkpoint, VACE blocks from the teacher."""

    generator: str = ""  # "" = the teacher; else a student checkpoint (.safetensors / checkpoint dir / diffusers dir)
    accwan_from: str = ""  # phase 2: the phase-1 few-step T2V weights (AccWanInit)


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    init: InitConfig = field(default_factory=InitConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    disc: DiscConfig = field(default_factory=DiscConfig)
    data: DataConfig = field(default_factory=DataConfig)
    run: RunConfig = field(default_factory=RunConfig)
    distributed: bool = False  # FSDP over torchrun ranks (vdot_train.distributed)
    fsdp_cpu_offload: bool = False
    # FSDP units (vdot_train.scale.units): "size" = the official size-based policy (every submodule of at least
    # fsdp_min_params parameters, leaf-first; official 5e7), plus every block and head; "block" = blocks and heads only
    fsdp_wrap: Literal["size", "block"] = "size"
    fsdp_min_params: int = 50_000_000

    def validate(self) -> None:
        if self.fsdp_min_params < 1:
            raise ConfigError("fsdp_min_params", f"{self.fsdp_min_params}: must be >= 1 (official 50000000)")
        if self.init.accwan_from and self.model.kind != "vace":
            raise ConfigError("init.accwan_from", "AccWanInit builds a VACE generator: set model.kind=vace")
        if not self.data.shards and not self.data.prompts_file:
            raise ConfigError("data.shards", "give WebDataset shards (or data.prompts_file for prompt-only phase 1)")
        if self.distributed and self.run.ema_decay > 0:
            raise ConfigError("run.ema_decay", "the generator EMA is single-process only: set it to 0 with distributed")
        if self.loss.gan and not self.data.shards:
            raise ConfigError("loss.gan", "the GAN branch needs real clips: set data.shards or loss.gan=false")
        if self.loss.gan and self.schedule.dfake_gen_update_ratio % 2 == 0:
            # the objective alternates with the iteration's parity; the generator updates every N-th iteration, so
            # with an even N every generator update falls on an even iteration and the generator never gets GAN-G
            raise ConfigError("schedule.dfake_gen_update_ratio",
                              f"{self.schedule.dfake_gen_update_ratio} is even: every generator update would fall on an "
                              "even (DMD/OTD) iteration and never get the GAN loss; use an odd ratio (official: 5) "
                              "or set loss.gan=false")


@dataclass
class PretrainConfig:
    """Plain flow-matching training of a teacher (from scratch for tiny CPU models, or fine-tuning)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    run: RunConfig = field(default_factory=lambda: RunConfig(out_dir="runs/pretrain", max_steps=1000))
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    grad_accum: int = 1
    shift: float = 5.0
    text_dropout: float = 0.1  # probability of training on the negative (empty) prompt, enables CFG
    # learning-rate schedule (optimiser steps): a linear warm-up, then "constant" or "cosine" (decays to
    # min_lr_ratio·lr at run.max_steps). run.ema_decay > 0 keeps an EMA of the weights; the exported teacher is the EMA
    warmup_steps: int = 0
    lr_schedule: Literal["constant", "cosine"] = "constant"
    min_lr_ratio: float = 0.0
    # loss weight of the latent positions the VACE context gives (folded mask 0: kept pixels, reference frames)
    # relative to the rest. 1 = plain flow matching on the whole latent, as the official VACE / Wan training; other
    # values are a named deviation (the demo's tiny teacher)
    known_weight: float = 1.0
    # AdamW's kernel (vdot_train.trainer.common.adam): "fused" (one kernel per step; the demo's CPU teacher step is
    # ≈ 8 % cheaper than with the for-loop, docs/benchmarks.md), "foreach", "for-loop" or "default" (torch's choice:
    # for-loop on CPU)
    optim_implementation: str = "fused"
    # data-parallel replicas over torchrun ranks (DDP; gloo on CPU, NCCL on CUDA): each rank trains on its share of
    # the samples (dealt as in the VDOT trainer) and the gradients are averaged, so one step sees
    # world × data.batch_size clips. Off: one process (under torchrun with more ranks it refuses to start)
    distributed: bool = False

    def validate(self) -> None:
        if not self.data.shards:
            raise ConfigError("data.shards", "teacher training needs clips: set data.shards")
        if not self.distributed and int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise ConfigError("distributed", f"launched with {os.environ['WORLD_SIZE']} ranks but distributed=false: "
                                             "set --set distributed=true (data-parallel) or launch one process")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ConfigError("lr_schedule", f"must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if self.warmup_steps < 0 or not 0 <= self.min_lr_ratio <= 1:
            raise ConfigError("warmup_steps / min_lr_ratio", "need warmup_steps >= 0 and 0 <= min_lr_ratio <= 1")
        if self.optim_implementation not in ("fused", "foreach", "for-loop", "default"):
            raise ConfigError("optim_implementation", f"must be fused, foreach, for-loop or default, got "
                                                      f"{self.optim_implementation!r}")
        if self.known_weight < 0:
            raise ConfigError("known_weight", f"must be >= 0 (1 = official whole-latent loss), got {self.known_weight}")
