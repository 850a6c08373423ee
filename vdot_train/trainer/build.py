"""Build a VDOTTrainer from a TrainConfig: load the teacher, make the generator / fake-score copies (with AccWanInit or
a student checkpoint when asked), discriminator heads, codec, text encoder and data; resume from the latest
checkpoint of run.out_dir when one exists."""
from __future__ import annotations

import copy
from typing import Sequence

import torch

from uvc_data.configurable import validate
from uvc_data.sample import Sample
from vdot_train.data import BatchBuilder, TrainData
from vdot_train.models.bundle import load_denoiser, load_text_encoder
from vdot_train.models.codecs import build_codec
from vdot_train.models.denoiser import Denoiser
from vdot_train.trainer.common import log, pick_device
from vdot_train.trainer.config import TrainConfig
from vdot_train.trainer.vdot import Nets, VDOTTrainer


def _trainable_copy(teacher: Denoiser, checkpointing: bool) -> Denoiser:
    d = Denoiser(copy.deepcopy(teacher.transformer)).requires_grad_(True).train()
    if checkpointing:
        d.enable_gradient_checkpointing()
    return d


def build_nets(cfg: TrainConfig, device: torch.device) -> Nets:
    from vdot_train.models.disc_heads import build_disc_heads
    from vdot_train.trainer.checkpoint import load_student_weights

    teacher = load_denoiser(cfg.model).to(device).eval().requires_grad_(False)
    gc = cfg.run.gradient_checkpointing
    generator = _trainable_copy(teacher, gc)
    if cfg.init.accwan_from:
        from vdot_train.models.accwan import accwan_init, accwan_state

        n = len(accwan_init(generator.transformer,
                            accwan_state(cfg.init.accwan_from, generator.transformer.state_dict())))
        log.info("AccWanInit: %d main weights from %s, VACE blocks from the teacher", n, cfg.init.accwan_from)
    if cfg.init.generator:
        load_student_weights(generator, cfg.init.generator)
    fake = _trainable_copy(teacher, gc)
    heads = None
    if cfg.loss.gan:
        d = cfg.disc
        for b in d.blocks:
            if not 0 <= b < teacher.num_blocks:
                from uvc_data.errors import ConfigError

                raise ConfigError("disc.blocks", f"block {b} does not exist: the teacher has {teacher.num_blocks} "
                                                 "blocks (official 23,31,39 for 40 blocks; 13,21,29 for 30)")
        torch.manual_seed(cfg.run.seed)
        heads = build_disc_heads(d, fake.dim, time_dim=fake.dim).to(device)
    return Nets(generator.to(device), fake.to(device), teacher, heads)


def build_vdot_trainer(cfg: TrainConfig, samples: Sequence[Sample] | None = None, resume: bool = True) -> VDOTTrainer:
    """The trainer of `cfg`; `samples` replaces the shards (tests). Resumes from run.out_dir when it has a checkpoint."""
    if samples is not None and not cfg.data.shards:
        cfg.data.shards = ["<in-memory samples>"]
    validate(cfg)
    cfg.model.materialise()
    device = pick_device(cfg.run.device)
    torch.manual_seed(cfg.run.seed)
    rank, world = 0, 1
    if cfg.distributed:
        from vdot_train.distributed import init_from_env

        rank, world = init_from_env()
        if device.type == "cuda":
            device = torch.device("cuda", torch.cuda.current_device())
    nets = build_nets(cfg, device)
    if cfg.distributed:
        from vdot_train.distributed import parallelize

        for m in (nets.generator, nets.fake_score, nets.teacher):
            parallelize(m, cfg.fsdp_cpu_offload)
        if nets.heads is not None:
            parallelize(nets.heads, cfg.fsdp_cpu_offload)
    text = load_text_encoder(cfg.model).to(device)
    codec = build_codec(cfg.model.codec, cfg.model.path)
    if hasattr(codec, "to"):
        codec.to(device)  # type: ignore[union-attr]
    builder = BatchBuilder(codec, text, cfg.data, cfg.model.kind, device)
    data = TrainData(builder, cfg.data, samples, rank=rank, world=world)
    negative = text.encode([cfg.loss.negative_prompt])
    trainer = VDOTTrainer(cfg, nets, data, negative, device, rank=rank)
    if resume:
        from vdot_train.trainer.checkpoint import latest_checkpoint

        last = latest_checkpoint(f"{cfg.run.out_dir}/checkpoints")
        if last is not None:
            trainer.load(str(last))
            log.info("resumed from %s at step %d", last, trainer.step)
    return trainer
