"""Named recipes: complete configs for the paper's runs and for CPU smoke runs. Override any field with
`--set a.b=value` or a TOML/JSON `--config` file (applied on top of the recipe).

Train recipes (TrainConfig):
  phase1       Wan2.1-T2V-14B → few-step T2V, prompts only, DMD only (Self-Forcing style; no OTD, no GAN),
               lr_G 2e-6, 1,500 iterations. Set model.path and data.prompts_file.
  phase2       VACE-Wan2.1-14B, multi-task shards, 0.2·DMD + 0.8·OTD, GAN 0.1, AccWanInit from phase 1,
               lr_G 1e-6, lr_critic 4e-7, 1,200 iterations. Set model.path, data.shards, init.accwan_from.
  phase2_1_3b  phase2 for the 30-block 1.3B model (discriminator on blocks 13, 21, 29).
  tiny_cpu     phase2's objective on a tiny VACE model (built into runs/tiny_cpu/teacher on first use), pixel codec,
               float32 on CPU, 20 iterations. Set data.shards.
Pretrain recipes (PretrainConfig):
  teacher_tiny_cpu  flow-matching training of the tiny VACE teacher from scratch on shards.
Deviations from the official settings are named fields; phase1's DMD normaliser is Self-Forcing's ("mean_abs").
"""
from __future__ import annotations

from typing import Callable

from uvc_data.errors import UnknownNameError
from vdot_train.losses.otd import OTDConfig
from vdot_train.models.bundle import ModelConfig
from vdot_train.models.codecs import CodecConfig
from vdot_train.trainer.config import (DataConfig, DiscConfig, InitConfig, LossConfig, OptimConfig, PretrainConfig,
                                       RunConfig, ScheduleConfig, TrainConfig)


def phase1() -> TrainConfig:
    return TrainConfig(
        model=ModelConfig(kind="t2v"),
        optim=OptimConfig(lr_generator=2e-6, lr_critic=4e-7),
        loss=LossConfig(dmd_weight=1.0, otd_weight=0.0, gan=False, dmd_normaliser="mean_abs"),
        run=RunConfig(out_dir="runs/phase1", max_steps=1500),
    )


def phase2() -> TrainConfig:
    # the official code runs FSDP with CPU offload; the frozen teacher in bf16 halves its (host) memory
    return TrainConfig(
        model=ModelConfig(kind="vace", teacher_dtype="bfloat16"),
        fsdp_cpu_offload=True,
        init=InitConfig(accwan_from="runs/phase1/checkpoints"),
        optim=OptimConfig(lr_generator=1e-6, lr_critic=4e-7),
        loss=LossConfig(),
        run=RunConfig(out_dir="runs/phase2", max_steps=1200),
    )


def phase2_1_3b() -> TrainConfig:
    cfg = phase2()
    cfg.disc = DiscConfig(blocks=(13, 21, 29))
    return cfg


def _tiny_model() -> ModelConfig:
    return ModelConfig(kind="vace", path="runs/tiny_cpu/teacher", text_max_length=16, init_tiny=True,
                       codec=CodecConfig(kind="pixel", patch=2), tiny_layers=4)


def _tiny_data() -> DataConfig:
    return DataConfig(num_frames=3, height=16, width=16)


def tiny_cpu() -> TrainConfig:
    return TrainConfig(
        model=_tiny_model(),
        optim=OptimConfig(lr_generator=1e-4, lr_critic=1e-4, grad_clip=1.0),
        loss=LossConfig(otd=OTDConfig(iters=20)),
        schedule=ScheduleConfig(grad_accum=1),
        disc=DiscConfig(blocks=(1, 2, 3), reg_dim=32, attn_heads=2, ffn_dim=64),
        data=_tiny_data(),
        run=RunConfig(out_dir="runs/tiny_cpu/vdot", max_steps=20, log_every=1, ckpt_every=10, device="cpu",
                      mixed_precision="no", gradient_checkpointing=False),
    )


def teacher_tiny_cpu() -> PretrainConfig:
    return PretrainConfig(model=_tiny_model(), data=_tiny_data(),
                          run=RunConfig(out_dir="runs/tiny_cpu/pretrain", max_steps=200, log_every=10,
                                        ckpt_every=100, device="cpu", mixed_precision="no",
                                        gradient_checkpointing=False),
                          lr=3e-4)


TRAIN_RECIPES: dict[str, Callable[[], TrainConfig]] = {
    "phase1": phase1, "phase2": phase2, "phase2_1_3b": phase2_1_3b, "tiny_cpu": tiny_cpu}
PRETRAIN_RECIPES: dict[str, Callable[[], PretrainConfig]] = {"teacher_tiny_cpu": teacher_tiny_cpu}


def get_recipe(name: str, kind: str = "train"):
    table = TRAIN_RECIPES if kind == "train" else PRETRAIN_RECIPES
    if name not in table:
        raise UnknownNameError(f"{kind} recipe", name, list(table))
    return table[name]()
