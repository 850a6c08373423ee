"""Build a VDOTTrainer from a TrainConfig, sharded from birth.

Every network (teacher, generator, fake score, discriminator heads) is built on the meta device, sharded with FSDP2
per unit (vdot_train.scale.units: the official size-based policy) when `distributed` (vdot_train.distributed.parallelize), and only then materialised: each rank
reads its own rows of each parameter straight from the checkpoint files by key (vdot_train.scale). No process ever
holds a whole network, nor copies one. The generator's weights come from the teacher's files, overlaid by AccWanInit
(init.accwan_from) and a student checkpoint (init.generator; a sharded `uvc train` checkpoint loads straight into each
rank's shards with one collective DCP read). Resumes from the latest checkpoint of run.out_dir.
"""
from __future__ import annotations

from typing import Sequence

import torch

from uvc_data.configurable import validate
from uvc_data.errors import ConfigError
from uvc_data.sample import Sample
from vdot_train.data import BatchBuilder, TrainData
from vdot_train.models.bundle import DTYPES, load_text_encoder
from vdot_train.models.codecs import build_codec
from vdot_train.models.denoiser import Denoiser
from vdot_train.scale.dcp_checkpoint import find_dcp_checkpoint, load_module_shards
from vdot_train.scale.materialise import materialise
from vdot_train.scale.meta import denoiser_on_meta, module_on_meta
from vdot_train.scale.sources import generator_source
from vdot_train.scale.weights import SafetensorsSource, StateDictSource
from vdot_train.trainer.common import log, pick_device
from vdot_train.trainer.config import TrainConfig
from vdot_train.trainer.vdot import Nets, VDOTTrainer

EMPTY = StateDictSource({})  # allocate only: the weights come from elsewhere


def _make_heads(cfg: TrainConfig, dim: int) -> torch.nn.Module:
    from vdot_train.models.disc_heads import build_disc_heads

    return build_disc_heads(cfg.disc, dim, time_dim=dim)


def _check_blocks(cfg: TrainConfig, num_blocks: int) -> None:
    for b in cfg.disc.blocks:
        if not 0 <= b < num_blocks:
            raise ConfigError("disc.blocks", f"block {b} does not exist: the teacher has {num_blocks} "
                                             "blocks (official 23,31,39 for 40 blocks; 13,21,29 for 30)")


def build_nets(cfg: TrainConfig, device: torch.device, distributed: bool = False) -> Nets:
    """The four networks on `device` (sharded over the process group when `distributed`)."""
    from vdot_train.distributed import mixed_precision_policy, parallelize

    m = cfg.model
    master = DTYPES[m.dtype]
    teacher_dtype = DTYPES[m.teacher_dtype or m.dtype]
    teacher = denoiser_on_meta(m.path, m.kind, teacher_dtype).eval().requires_grad_(False)
    generator = denoiser_on_meta(m.path, m.kind, master).requires_grad_(True).train()
    fake = denoiser_on_meta(m.path, m.kind, master).requires_grad_(True).train()
    if cfg.run.gradient_checkpointing:
        generator.enable_gradient_checkpointing()
        fake.enable_gradient_checkpointing()
    heads, heads_init = None, None
    if cfg.loss.gan:
        _check_blocks(cfg, teacher.num_blocks)
        torch.manual_seed(cfg.run.seed)  # the heads' initial values: the same on every rank
        heads_init = _make_heads(cfg, fake.dim).state_dict()
        heads = module_on_meta(lambda: _make_heads(cfg, fake.dim))
    if distributed:
        policy = mixed_precision_policy(device, cfg.run.mixed_precision)
        for net in (generator, fake, teacher, heads):
            if net is not None:
                parallelize(net, cfg.fsdp_cpu_offload, mp_policy=policy, wrap=cfg.fsdp_wrap,
                            min_params=cfg.fsdp_min_params)
    init_device = torch.device("cpu") if cfg.fsdp_cpu_offload else device
    teacher_src = SafetensorsSource(m.path)
    keys = [k for k, _ in generator.transformer.named_parameters()]
    student_dcp = find_dcp_checkpoint(cfg.init.generator) if cfg.init.generator else None
    # a student written by `uvc train` as a sharded checkpoint loads straight into the shards (one collective read)
    gen_src = (EMPTY if student_dcp is not None else
               generator_source(teacher_src, cfg.init.accwan_from, cfg.init.generator, keys))
    for name, net, src in (("teacher", teacher, teacher_src), ("fake score", fake, teacher_src),
                           ("generator", generator, gen_src)):
        rep = materialise(net, src, init_device, what=name, prefix="transformer.", strict=src is not EMPTY)
        log.info("%s: %d tensors, %.1f MB read on this rank", name, rep.loaded, rep.bytes_read / 1e6)
    if student_dcp is not None:
        n = load_module_shards(generator, student_dcp, "generator", prefix="transformer.", what="generator")
        log.info("generator: %d tensors from the sharded checkpoint %s (init.generator)", n, student_dcp)
    if heads is not None:
        materialise(heads, StateDictSource(heads_init), init_device, what="discriminator heads")
    return Nets(generator, fake, teacher, heads)


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
    nets = build_nets(cfg, device, distributed=cfg.distributed and world > 1)
    text = load_text_encoder(cfg.model).to(device if cfg.model.text_encoder_device == "auto" else "cpu")
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


__all__ = ["build_nets", "build_vdot_trainer", "Denoiser"]
