"""Memory planner: per-GPU bytes of a recipe at a world size, from the real networks built on the meta device.

`plan(cfg, world, gpu_bytes)` counts, per rank:
  persistent   parameters of generator, fake score, heads (model.dtype master weights) and teacher
               (model.teacher_dtype), each /world under FSDP; Adam's two moments of every trainable parameter /world;
               the text encoder (on the GPU unless model.text_encoder_device=cpu) and the VAE.
  per phase    the four phases of an iteration (generator even/odd, critic even/odd) each add what lives only then:
               that network's gradients (sharded, fp32), its activations, the all-gathered units in flight and the
               OT buffers; the peak is persistent + the largest phase.
Activations (per sample, compute dtype): with per-block checkpointing each block keeps its input hidden states
[N, dim] (VACE blocks: input and hint), and one block at a time is recomputed with all its intermediates,
≈ N·(20·dim + 2·ffn) elements (q, k, v, rotated q/k, attention out, projections, norms and modulated copies, FFN
in/out) — counted from diffusers' WanTransformerBlock; without checkpointing every block keeps those.
With fsdp_cpu_offload the sharded parameters, gradients and moments live in host memory (reported apart); with
run.async_checkpoint a checkpoint's staging copy of this rank's saved shards does too (DCP copies before it writes).
The figures are estimates of tensor bytes; the CUDA context and allocator slack are a fixed 3 GiB + 5 %.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from vdot_train.scale.architectures import ARCHITECTURES, UMT5_XXL, VAE_PARAMS, VAE_STRIDE
from vdot_train.trainer.config import TrainConfig

GiB = 1 << 30
DT_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}


@dataclass
class NetShape:
    params: int  # all parameters
    block_params: int  # largest FSDP unit other than the root (vdot_train.scale.units, the recipe's fsdp_wrap)
    root_params: int  # parameters the root unit holds (what no other unit took)
    dim: int
    ffn: int
    blocks: int
    vace_blocks: int
    patch: tuple[int, int, int]


@dataclass
class Plan:
    world: int
    gpu_bytes: int
    rows: dict[str, int] = field(default_factory=dict)  # persistent, per GPU
    phases: dict[str, dict[str, int]] = field(default_factory=dict)
    host: dict[str, int] = field(default_factory=dict)  # per rank, in host memory
    overhead: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def persistent(self) -> int:
        return sum(self.rows.values())

    @property
    def peak_phase(self) -> tuple[str, int]:
        name = max(self.phases, key=lambda k: sum(self.phases[k].values()))
        return name, sum(self.phases[name].values())

    @property
    def peak(self) -> int:
        return self.persistent + self.peak_phase[1] + self.overhead

    @property
    def fits(self) -> bool:
        return self.peak <= self.gpu_bytes


def net_shape(cfg: TrainConfig, architecture: str = "") -> NetShape:
    """The transformer's sizes, from its config (model.path) or a named architecture, built on the meta device."""
    return _net_shape(cfg.model.kind, cfg.model.path, architecture, cfg.fsdp_wrap, cfg.fsdp_min_params)


@lru_cache(maxsize=8)
def _net_shape(kind: str, path: str, architecture: str, wrap: str = "size", min_params: int = 50_000_000) -> NetShape:
    from diffusers import WanTransformer3DModel, WanVACETransformer3DModel

    from vdot_train.scale.meta import on_meta
    from vdot_train.scale.units import unit_sizes

    cls = WanVACETransformer3DModel if kind == "vace" else WanTransformer3DModel
    cfg_file = Path(path) / "transformer" / "config.json"
    if architecture:
        config = dict(ARCHITECTURES[architecture])
        if kind != "vace":
            config = {k: v for k, v in config.items() if k not in ("vace_layers", "vace_in_channels")}
    elif cfg_file.is_file() or (Path(path) / "config.json").is_file():
        config = cls.load_config(cfg_file.parent if cfg_file.is_file() else path)
    else:
        raise FileNotFoundError(f"no transformer config under {path!r}: pass an architecture "
                                f"({', '.join(ARCHITECTURES)})")
    with on_meta():
        m = cls.from_config(config)
    units = unit_sizes(m, wrap, min_params)  # the root last
    c = m.config
    return NetShape(sum(units), max(units[:-1]), units[-1], c.num_attention_heads * c.attention_head_dim, c.ffn_dim,
                    len(m.blocks), len(getattr(m, "vace_blocks", [])), tuple(c.patch_size))


def heads_params(cfg: TrainConfig, dim: int) -> int:
    if not cfg.loss.gan:
        return 0
    from vdot_train.scale.meta import module_on_meta
    from vdot_train.trainer.build import _make_heads

    return sum(p.numel() for p in module_on_meta(lambda: _make_heads(cfg, dim)).parameters())


def text_encoder_params(cfg: TrainConfig) -> int:
    return _text_encoder_params(cfg.model.text_encoder_path or cfg.model.path)


def text_encoder_bytes_per_param(cfg: TrainConfig) -> int:
    """2 for a bf16/fp16 checkpoint (Wan's umT5-XXL ships in bf16; transformers loads the stored dtype), else 4."""
    import json

    p = Path(cfg.model.text_encoder_path or cfg.model.path) / "text_encoder" / "config.json"
    if not p.is_file():
        return 2
    c = json.loads(p.read_text())
    return 2 if str(c.get("dtype") or c.get("torch_dtype") or "float32") in ("bfloat16", "float16") else 4


@lru_cache(maxsize=4)
def _text_encoder_params(path: str) -> int:
    from transformers import UMT5Config, UMT5EncoderModel

    from vdot_train.scale.meta import on_meta

    p = Path(path) / "text_encoder" / "config.json"
    config = UMT5Config.from_json_file(str(p)) if p.is_file() else UMT5Config(**UMT5_XXL)
    with on_meta():
        m = UMT5EncoderModel(config)
    m.tie_weights()
    return sum(q.numel() for q in m.parameters())


def latent_tokens(cfg: TrainConfig, shape: NetShape, refs: int = 0) -> tuple[int, int]:
    """(tokens N per sample, latent elements per sample) at the recipe's clip size, Wan VAE (or pixel codec)."""
    d = cfg.data
    if cfg.model.codec.kind == "pixel":
        p = cfg.model.codec.patch
        t, h, w, ch = d.num_frames, d.height // p, d.width // p, 3 * p * p
    else:
        st, sh, sw = VAE_STRIDE
        t, h, w, ch = 1 + (d.num_frames - 1) // st, d.height // sh, d.width // sw, 16
    t += refs
    pt, ph, pw = shape.patch
    return (t // pt) * (h // ph) * (w // pw), ch * t * h * w


def activation_bytes(tokens: int, shape: NetShape, dtype_bytes: int, checkpointing: bool, batch: int) -> int:
    """One forward with grad through the transformer (per rank, `batch` samples)."""
    per_block_full = tokens * (20 * shape.dim + 2 * shape.ffn) * dtype_bytes
    boundary = tokens * shape.dim * dtype_bytes
    n_units = shape.blocks + shape.vace_blocks
    if checkpointing:
        kept = (shape.blocks + 2 * shape.vace_blocks) * boundary + per_block_full
    else:
        kept = n_units * per_block_full
    return batch * (kept + per_block_full)  # + one block's gradients of its intermediates during backward


def forward_transient_bytes(tokens: int, shape: NetShape, dtype_bytes: int, batch: int) -> int:
    """A no-grad forward: one block's intermediates plus the running hidden state and hints."""
    return batch * (tokens * (20 * shape.dim + 2 * shape.ffn) + (2 + shape.vace_blocks) * tokens * shape.dim) * dtype_bytes


def ot_bytes(cfg: TrainConfig, latent_frames: int, h: int, w: int) -> int:
    o = cfg.loss.otd
    if cfg.loss.otd_weight <= 0:
        return 0
    n = (h // o.pool) * (w // o.pool)
    frames = latent_frames if not o.chunk else min(o.chunk, latent_frames)
    per = n * n * 4  # one fp32 n×m matrix
    if o.gradient.startswith("unrolled"):
        return latent_frames * per * (2 * o.iters + 3)  # ≈ 2 saved n×m tensors per iteration
    return frames * per * 4  # cost, log-kernel, plan, workspace


def plan(cfg: TrainConfig, world: int, gpu_bytes: int, architecture: str = "", device: str = "cuda",
         refs: int = 0) -> Plan:
    """Per-rank memory of `cfg` at `world` ranks on GPUs of `gpu_bytes` (device="cpu": fp32 compute, no CUDA)."""
    s = net_shape(cfg, architecture)
    pl = Plan(world, gpu_bytes)
    shard = world if world > 1 else 1
    master = DT_BYTES[cfg.model.dtype]
    teacher = DT_BYTES[cfg.model.teacher_dtype or cfg.model.dtype]
    compute = 2 if (device == "cuda" and cfg.run.mixed_precision == "bf16") else master
    hp = heads_params(cfg, s.dim)
    trainable = 2 * s.params + hp
    offload = cfg.fsdp_cpu_offload and world > 1
    sharded = {"generator + fake score + heads (master weights)": trainable * master // shard,
               "teacher (frozen)": s.params * teacher // shard,
               "Adam moments (2 per trainable weight)": 2 * trainable * 4 // shard}
    if offload:
        pl.host.update(sharded)
        pl.host["gradients (sharded, largest step)"] = (s.params + hp) * 4 // shard
    else:
        pl.rows.update(sharded)
    # what a checkpoint saves of this rank (trained weights + Adam moments); DCP's async_save first copies it to host
    staged = (trainable * master + 2 * trainable * 4) // shard
    if cfg.run.async_checkpoint:
        pl.host["async checkpoint staging (a copy of the saved shards)"] = staged
    else:
        pl.notes.append(f"run.async_checkpoint=true would stage {staged / GiB:.1f} GiB of host memory per rank while a "
                        "checkpoint is written (a copy of this rank's saved shards)")
    te = text_encoder_params(cfg)  # the model dir's own text encoder config, else umT5-XXL
    te_bytes = te * text_encoder_bytes_per_param(cfg)
    if cfg.model.text_encoder_device == "auto":
        pl.rows["text encoder (unsharded)"] = te_bytes
    else:
        pl.host["text encoder"] = te_bytes
    if cfg.model.codec.kind == "wan_vae":
        pl.rows["VAE (fp32)"] = VAE_PARAMS * 4
    tokens, lat_elems = latent_tokens(cfg, s, refs)
    b = cfg.data.batch_size
    gc = cfg.run.gradient_checkpointing
    act = activation_bytes(tokens, s, compute, gc, b)
    fwd = forward_transient_bytes(tokens, s, compute, b)
    # FSDP2: the root unit stays gathered; a unit in flight holds its all-gather output and the copied-out
    # unsharded parameters, and the next unit is prefetched (2 units × 2 copies); in backward a unit's unsharded
    # gradient and the reduce-scatter input (2 × one unit, fp32)
    gather = 0 if world == 1 else (s.root_params + 4 * s.block_params) * compute
    grad_unsharded = 0 if world == 1 else 2 * s.block_params * 4
    grads_g = 0 if offload else s.params * 4 // shard
    grads_c = 0 if offload else (s.params + hp) * 4 // shard
    d = cfg.data
    st, sh, sw = VAE_STRIDE if cfg.model.codec.kind != "pixel" else (1, cfg.model.codec.patch, cfg.model.codec.patch)
    ot = ot_bytes(cfg, 1 + (d.num_frames - 1) // st if st > 1 else d.num_frames, d.height // sh, d.width // sw)
    latents = 8 * b * lat_elems * 4  # x̂0, x_t, noise, score predictions, context halves (fp32)
    if cfg.optim.implementation == "foreach" or (cfg.optim.implementation == "default" and device == "cuda"):
        pl.notes.append("foreach AdamW: + one temporary of the local parameters during each step (not in the phases; "
                        "optim.implementation=fused has none)")
    pl.phases = {
        "generator, even (DMD + OTD)": {"gradients": grads_g, "activations": act, "score forward": fwd,
                                        "all-gather": gather + grad_unsharded, "OT buffers": ot, "latents": latents},
        "generator, odd (GAN-G)": {"gradients": grads_g, "activations": act + act, "all-gather": gather +
                                   grad_unsharded, "latents": latents},
        "critic, even (denoising)": {"gradients": grads_c, "activations": act, "all-gather": gather + grad_unsharded,
                                     "latents": latents},
        # fake and real in one forward of twice the batch (VDOTTrainer.joint_logits): one gradient per parameter
        "critic, odd (GAN-D)": {"gradients": grads_c, "activations": 2 * act, "all-gather": gather + grad_unsharded,
                                "latents": latents},
    }
    if not cfg.loss.gan:
        pl.phases = {k: v for k, v in pl.phases.items() if "odd" not in k}
    pl.overhead = (3 * GiB if device == "cuda" else 0) + int(0.05 * (pl.persistent + pl.peak_phase[1]))
    pl.notes.append(f"{s.params / 1e9:.2f} B parameters per transformer ({s.blocks} blocks + {s.vace_blocks} VACE), "
                    f"heads {hp / 1e6:.0f} M, text encoder {te / 1e9:.2f} B; {tokens:,} tokens per sample")
    return pl


def suggestions(cfg: TrainConfig, pl: Plan, architecture: str, device: str) -> list[str]:
    """Settings that would make a plan that does not fit fit (each tried alone)."""
    import copy

    out: list[str] = []
    tries = []
    if not cfg.fsdp_cpu_offload:
        c = copy.deepcopy(cfg)
        c.fsdp_cpu_offload = True
        tries.append(("--set fsdp_cpu_offload=true (the official code's FSDP CPU offload)", c, pl.world))
    if cfg.model.text_encoder_device == "auto":
        c = copy.deepcopy(cfg)
        c.model.text_encoder_device = "cpu"
        tries.append(("--set model.text_encoder_device=cpu", c, pl.world))
    if not cfg.model.teacher_dtype or cfg.model.teacher_dtype == "float32":
        c = copy.deepcopy(cfg)
        c.model.teacher_dtype = "bfloat16"
        tries.append(("--set model.teacher_dtype=bfloat16", c, pl.world))
    for label, c, w in tries:
        p2 = plan(c, w, pl.gpu_bytes, architecture, device)
        if p2.fits:
            out.append(f"{label}: {p2.peak / GiB:.1f} GiB per GPU")
    for w in (8, 16, 32, 64):
        if w > pl.world and plan(cfg, w, pl.gpu_bytes, architecture, device).fits:
            out.append(f"{w} GPUs (torchrun --nproc_per_node / more nodes): "
                       f"{plan(cfg, w, pl.gpu_bytes, architecture, device).peak / GiB:.1f} GiB per GPU")
            break
    for frames in (61, 49, 33, 17):
        if frames < cfg.data.num_frames:
            c = copy.deepcopy(cfg)
            c.data.num_frames = frames
            p2 = plan(c, pl.world, pl.gpu_bytes, architecture, device)
            if p2.fits:
                out.append(f"shorter clips: --set data.num_frames={frames}: {p2.peak / GiB:.1f} GiB per GPU")
                break
    return out


def format_plan(pl: Plan, title: str, tips: list[str] | None = None) -> str:
    def g(x: int) -> str:
        return f"{x / GiB:8.2f} GiB"

    lines = [title, f"  per GPU, world size {pl.world}, GPU memory {pl.gpu_bytes / GiB:.0f} GiB", *[f"  note: {n}" for n in pl.notes],
             "  persistent:"]
    lines += [f"    {k:<52} {g(v)}" for k, v in pl.rows.items()]
    lines.append(f"    {'total':<52} {g(pl.persistent)}")
    for name, parts in pl.phases.items():
        lines.append(f"  phase {name}: {g(sum(parts.values())).strip()} on top")
        lines += [f"    {k:<52} {g(v)}" for k, v in parts.items() if v]
    peak_name, _ = pl.peak_phase
    lines.append(f"  overhead (CUDA context, allocator slack)              {g(pl.overhead)}")
    lines.append(f"  PEAK ({peak_name}): {pl.peak / GiB:.1f} GiB of {pl.gpu_bytes / GiB:.0f} GiB — "
                 f"{'fits' if pl.fits else 'DOES NOT FIT'}")
    if pl.host:
        lines.append(f"  host memory per rank: {sum(pl.host.values()) / GiB:.1f} GiB (" +
                     ", ".join(f"{k} {v / GiB:.1f} GiB" for k, v in pl.host.items()) + ")")
    if tips:
        lines.append("  to make it fit, any one of:")
        lines += [f"    {t}" for t in tips]
    elif not pl.fits:
        lines.append("  no single setting makes it fit: combine offload with more GPUs or shorter clips")
    return "\n".join(lines)


def parse_bytes(text: str) -> int:
    t = text.strip().upper().replace("IB", "B")
    for suffix, mult in (("TB", 1 << 40), ("GB", GiB), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
        if t.endswith(suffix):
            return int(float(t[: -len(suffix)]) * mult)
    return int(float(t))


