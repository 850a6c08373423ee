"""Export the student to a diffusers WanVACEPipeline directory (4-step use: UniPC with the flow shift baked into the
scheduler config, guidance_scale=1). The VAE, text encoder and tokenizer folders are copied from the teacher dir.

The transformer is written shard by shard (`diffusion_pytorch_model-0000k-of-0000n.safetensors` + index, diffusers'
sharded layout) from the student's weights read key by key — a sharded DCP checkpoint of `uvc train train`, a
.safetensors file or a diffusers dir — so no process ever holds the whole 14B network.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterator

import torch

from vdot_train.models.loading import component_dir, tokenizer_dir

HOW = ("export needs the teacher's diffusers dir with vae/, text_encoder/ and tokenizer/ (e.g. "
       "Wan2.1-VACE-14B-diffusers); models trained with the pixel codec have no VAE and cannot become a WanVACEPipeline")
WEIGHTS_NAME = "diffusion_pytorch_model"


def _student_groups(weights: str | Path, prefer_ema: bool, max_bytes: int) -> Iterator[dict[str, torch.Tensor]]:
    """The student's tensors in groups of ≤ max_bytes, read key by key."""
    from vdot_train.scale.dcp_checkpoint import find_dcp_checkpoint, iter_tensor_groups, tensor_metadata
    from vdot_train.scale.sources import open_source

    ck = find_dcp_checkpoint(weights)
    if ck is not None:
        has_ema = any(k.startswith("generator_ema.") for k in tensor_metadata(ck))
        yield from iter_tensor_groups(ck, "generator_ema" if prefer_ema and has_ema else "generator", max_bytes)
        return
    src = open_source(weights, "the student weights")
    group: dict[str, torch.Tensor] = {}
    size = 0
    for k in sorted(src.keys()):
        t = src.read(k)
        n = t.numel() * t.element_size()
        if group and size + n > max_bytes:
            yield group
            group, size = {}, 0
        group[k] = t
        size += n
    if group:
        yield group


def write_sharded_transformer(weights: str | Path, config_dir: Path, out: Path, prefer_ema: bool = False,
                              max_shard_bytes: int = 5 << 30) -> int:
    """transformer/ of a diffusers dir: the teacher's config.json + the student's weights in shards. Returns the
    number of shards; one group of tensors is in memory at a time."""
    from safetensors.torch import save_file

    out.mkdir(parents=True)
    shutil.copy2(config_dir / "config.json", out / "config.json")
    weight_map: dict[str, str] = {}
    names: list[str] = []
    total = 0
    for i, group in enumerate(_student_groups(weights, prefer_ema, max_shard_bytes)):
        name = f"{WEIGHTS_NAME}-{i + 1:05d}.safetensors"  # renamed to "-of-N" once N is known
        save_file({k: v.contiguous() for k, v in group.items()}, str(out / name), metadata={"format": "pt"})
        names.append(name)
        weight_map.update({k: name for k in group})
        total += sum(v.numel() * v.element_size() for v in group.values())
    n = len(names)
    if n == 1:
        (out / names[0]).rename(out / f"{WEIGHTS_NAME}.safetensors")
        return 1
    final = {name: f"{WEIGHTS_NAME}-{i + 1:05d}-of-{n:05d}.safetensors" for i, name in enumerate(names)}
    for old, new in final.items():
        (out / old).rename(out / new)
    index = {"metadata": {"total_size": total}, "weight_map": {k: final[v] for k, v in sorted(weight_map.items())}}
    (out / f"{WEIGHTS_NAME}.safetensors.index.json").write_text(json.dumps(index, indent=2))
    return n


def export_vace_pipeline(weights: str | Path, teacher_dir: str | Path, out_dir: str | Path, shift: float = 16.0,
                         prefer_ema: bool = False, max_shard_bytes: int = 5 << 30) -> Path:
    """Write `out_dir` (atomically: tmp + rename) loadable by `WanVACEPipeline.from_pretrained`."""
    import diffusers
    from diffusers import UniPCMultistepScheduler

    teacher_dir = Path(teacher_dir)
    vae = component_dir(teacher_dir, "vae", "the Wan VAE", HOW)
    text_encoder = component_dir(teacher_dir, "text_encoder", "the UMT5 encoder", HOW)
    tokenizer = tokenizer_dir(teacher_dir, "the UMT5 tokenizer", HOW)
    transformer = component_dir(teacher_dir, "transformer", "the teacher's transformer config", HOW)
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, src in (("vae", vae), ("text_encoder", text_encoder), ("tokenizer", tokenizer)):
        shutil.copytree(src, tmp / name)
    write_sharded_transformer(weights, transformer, tmp / "transformer", prefer_ema, max_shard_bytes)
    UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=shift,
                            num_train_timesteps=1000).save_config(tmp / "scheduler")
    tok_cls = json.loads((tokenizer / "tokenizer_config.json").read_text()).get("tokenizer_class", "T5TokenizerFast")
    index = {"_class_name": "WanVACEPipeline", "_diffusers_version": diffusers.__version__,
             "scheduler": ["diffusers", "UniPCMultistepScheduler"], "text_encoder": ["transformers", "UMT5EncoderModel"],
             "tokenizer": ["transformers", tok_cls], "transformer": ["diffusers", "WanVACETransformer3DModel"],
             "vae": ["diffusers", "AutoencoderKLWan"]}
    (tmp / "model_index.json").write_text(json.dumps(index, indent=2))
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    return out
