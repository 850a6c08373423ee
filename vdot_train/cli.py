"""`uvc train …` commands: train, pretrain, generate, convert, export. Heavy imports live inside the commands.

Configs: `--recipe NAME` (vdot_train.recipes), then `--config FILE` (TOML/JSON, merged on top), then `--set a.b=v`.
"""
from __future__ import annotations

import argparse
import logging
import sys

from uvc_data.prompts import WAN_NEGATIVE_PROMPT


def _config_args(p: argparse.ArgumentParser, default_recipe: str) -> None:
    p.add_argument("--recipe", default=default_recipe, help=f"named recipe (default {default_recipe})")
    p.add_argument("--config", default=None, help="TOML/JSON file merged on top of the recipe")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one field, e.g. --set run.max_steps=10 (repeatable)")
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")


def resolve_config(recipe: str, config_file: str | None, overrides: list[str], kind: str = "train"):
    """Recipe → file → overrides through the one resolver (uvc_data.configurable.resolve); the cross-field checks
    run when the trainer is built, so --print-config shows a config that is still missing e.g. data.shards."""
    from uvc_data.configurable import resolve
    from vdot_train.recipes import get_recipe

    return resolve(get_recipe(recipe, kind), config_file, overrides, check=False)


def _print_config(cfg) -> None:
    import json

    from uvc_data.configurable import to_dict

    print(json.dumps(to_dict(cfg), indent=2))


def cmd_train(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = resolve_config(args.recipe, args.config, args.overrides, "train")
    if args.print_config:
        _print_config(cfg)
        return 0
    from vdot_train.trainer.build import build_vdot_trainer

    trainer = build_vdot_trainer(cfg, resume=not args.no_resume)
    trainer.fit()
    print(f"done: step {trainer.step}, checkpoints in {cfg.run.out_dir}/checkpoints, counters {trainer.counters}")
    return 0


def cmd_pretrain(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    cfg = resolve_config(args.recipe, args.config, args.overrides, "pretrain")
    if args.print_config:
        _print_config(cfg)
        return 0
    from vdot_train.trainer.pretrain import FlowMatchingTrainer

    trainer = FlowMatchingTrainer(cfg)
    trainer.fit()
    out = trainer.export_model_dir()
    if trainer.rank == 0:
        print(f"done: step {trainer.step}; teacher dir (use as model.path): {out}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from uvc_data.vcu import build_vcu
    from vdot_train.models.bundle import ModelConfig, load_bundle
    from vdot_train.models.codecs import CodecConfig
    from vdot_train.sampling import generate

    mcfg = ModelConfig(kind=args.kind, path=args.model_path, text_max_length=args.text_max_length,
                       codec=CodecConfig(kind=args.codec, patch=args.patch))
    bundle = load_bundle(mcfg, weights=args.weights, device=args.device, prefer_ema=args.ema)
    if args.shards:
        from uvc_data.shards import iter_samples

        vcus = []
        for s in iter_samples(args.shards):
            if len(vcus) >= args.limit:
                break
            if args.task in s.tasks or args.task == "t2v":
                vcus.append(build_vcu(args.task, s.prompt, s.frames, s.conditions))
    else:
        vcus = [build_vcu("t2v", p, None, {}, num_frames=args.num_frames, size=(args.height, args.width))
                for p in args.prompt]
    if not vcus:
        from uvc_data.errors import BadInputError

        raise BadInputError("nothing to generate: give --prompt, or --shards with samples serving --task")
    videos = generate(bundle, vcus, steps=args.steps, shift=args.shift, guidance=args.guidance, seed=args.seed,
                      scheduler=args.scheduler, negative_prompt=args.negative_prompt)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from uvc_data.video.codec import encode_video

    for i, v in enumerate(videos):
        (out / f"{i:04d}.mp4").write_bytes(encode_video(v, args.fps))
        np.save(out / f"{i:04d}.npy", v)
    print(f"wrote {len(videos)} videos to {out}")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    import torch
    from safetensors.torch import save_file

    from vdot_train.models.convert import diffusers_to_original, load_original_checkpoint
    from vdot_train.trainer.checkpoint import read_transformer_state

    src = Path(args.input)
    if args.to == "diffusers" and not args.out.endswith(".safetensors"):
        # a diffusers transformer dir, written shard by shard from the memory-mapped .pt (the config from --config-from)
        from vdot_train.models.export import write_sharded_transformer
        from vdot_train.models.loading import TRANSFORMER_HOW, component_dir

        if not args.config_from:
            print("error: converting to a folder needs --config-from DIR (a diffusers model of the same size, whose "
                  "transformer/config.json is copied), or give OUT as a .safetensors file", file=sys.stderr)
            return 2
        cfg_dir = component_dir(args.config_from, "transformer", "the transformer config", TRANSFORMER_HOW)
        n = write_sharded_transformer(src, cfg_dir, Path(args.out))
        print(f"wrote {args.out} ({n} shard(s))")
        return 0
    if args.to == "diffusers":
        sd = load_original_checkpoint(src, key=args.key)
        save_file({k: v.contiguous() for k, v in sd.items()}, args.out)
    else:
        sd = diffusers_to_original(read_transformer_state(src))
        torch.save({args.key: sd}, args.out)
    print(f"wrote {len(sd)} tensors to {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from vdot_train.models.export import export_vace_pipeline

    out = export_vace_pipeline(args.weights, args.teacher, args.out, shift=args.shift, prefer_ema=args.ema)
    print(f"WanVACEPipeline written to {out} (use num_inference_steps=4, guidance_scale=1.0)")
    return 0


RECIPE_ARCHITECTURE = {"phase2": "wan-vace-14b", "phase2_1_3b": "wan-vace-1.3b"}


def cmd_plan(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vdot_train.scale.planner import format_plan, parse_bytes, plan, suggestions

    cfg = resolve_config(args.recipe, args.config, args.overrides)
    arch = args.architecture
    if not arch and not (Path(cfg.model.path) / "transformer" / "config.json").is_file():
        arch = RECIPE_ARCHITECTURE.get(args.recipe, "")
        if not arch:
            print(f"error: {cfg.model.path!r} has no transformer/config.json; set model.path or --architecture "
                  "(wan-vace-14b, wan-vace-1.3b)", file=sys.stderr)
            return 2
    pl = plan(cfg, args.world_size, parse_bytes(args.gpu_memory), arch, args.device)
    tips = [] if pl.fits else suggestions(cfg, pl, arch, args.device)
    src = arch or cfg.model.path
    print(format_plan(pl, f"memory plan: recipe {args.recipe}, {src}, {cfg.data.num_frames}×{cfg.data.height}×"
                          f"{cfg.data.width}, batch {cfg.data.batch_size}, offload {cfg.fsdp_cpu_offload}", tips))
    return 0 if pl.fits else 1


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="VDOT distillation (resumes from run.out_dir when it has checkpoints)")
    _config_args(p, "tiny_cpu")
    p.add_argument("--no-resume", action="store_true", help="start fresh even if checkpoints exist")
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser("pretrain", help="flow-matching teacher training / fine-tuning on shards")
    _config_args(p, "teacher_tiny_cpu")
    p.set_defaults(func=cmd_pretrain)

    p = subparsers.add_parser("generate", help="sample videos from a model dir (+ student weights)")
    p.add_argument("--model-path", required=True, help="diffusers dir of the model architecture (the teacher)")
    p.add_argument("--weights", default=None, help="student weights: checkpoint / run dir / .safetensors / .pt")
    p.add_argument("--ema", action="store_true", help="use the checkpoint's EMA weights when present")
    p.add_argument("--kind", choices=["t2v", "vace"], default="vace")
    p.add_argument("--codec", choices=["pixel", "wan_vae"], default="wan_vae")
    p.add_argument("--patch", type=int, default=2, help="pixel codec block size")
    p.add_argument("--text-max-length", type=int, default=512)
    p.add_argument("--prompt", action="append", default=[], help="T2V prompt (repeatable)")
    p.add_argument("--shards", default=None, help="build VCUs of --task from these shards instead")
    p.add_argument("--task", default="t2v")
    p.add_argument("--limit", type=int, default=4)
    p.add_argument("--num-frames", type=int, default=81)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--width", type=int, default=832)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--shift", type=float, default=16.0)
    p.add_argument("--guidance", type=float, default=1.0)
    p.add_argument("--negative-prompt", default=WAN_NEGATIVE_PROMPT,
                   help="CFG negative prompt (default: Wan's standard one, as official; '' = none)")
    p.add_argument("--scheduler", choices=["unipc", "euler"], default="unipc")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fps", type=float, default=16.0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=True, help="output folder (NNNN.mp4 + NNNN.npy)")
    p.set_defaults(func=cmd_generate)

    p = subparsers.add_parser("plan", help="per-GPU memory of a recipe at a world size (networks built on the meta device)")
    _config_args(p, "phase2")
    p.add_argument("--world-size", type=int, default=4)
    p.add_argument("--gpu-memory", default="141GB", help="memory per GPU, e.g. 141GB (H200), 80GB (H100)")
    p.add_argument("--architecture", default="", help="wan-vace-14b | wan-vace-1.3b (default: model.path's config, "
                                                      "else the recipe's model)")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"], help="cpu: fp32 compute, no CUDA context")
    p.set_defaults(func=cmd_plan)

    p = subparsers.add_parser("convert", help="official Wan/VACE/VDOT .pt ↔ diffusers safetensors")
    p.add_argument("input")
    p.add_argument("out")
    p.add_argument("--to", choices=["diffusers", "original"], default="diffusers")
    p.add_argument("--key", default="generator", help="state-dict key inside the .pt (official VDOT: generator)")
    p.add_argument("--config-from", default="", help="with OUT a folder: a diffusers model of the same size whose "
                                                     "transformer config is used (OUT becomes a sharded transformer dir)")
    p.set_defaults(func=cmd_convert)

    p = subparsers.add_parser("export", help="student → diffusers WanVACEPipeline dir")
    p.add_argument("--weights", required=True, help="student checkpoint / run dir / .safetensors / .pt")
    p.add_argument("--teacher", required=True, help="teacher diffusers dir (vae/, text_encoder/, tokenizer/)")
    p.add_argument("--out", required=True)
    p.add_argument("--shift", type=float, default=16.0)
    p.add_argument("--ema", action="store_true", help="export the EMA weights when the checkpoint has them")
    p.set_defaults(func=cmd_export)
