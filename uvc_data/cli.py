"""`uvc data …`: build multi-task training data from raw videos."""
from __future__ import annotations

import argparse
import json
import sys

from uvc_cli.listing import add_json_flag, emit


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("build", help="raw videos → clips, captions, conditions → WebDataset shards + Parquet manifest",
                       description="Build (or resume) a multi-task dataset. Rerun the same command to resume: finished "
                                   "inputs are skipped and the result is identical to an uninterrupted run.")
    b.add_argument("inputs", nargs="+", help="video files, folders (recursive), globs, @list.txt, or URLs "
                                              "(s3://bucket/videos/, 's3://bucket/**/*.mp4')")
    b.add_argument("--out", required=True, help="output folder or URL, e.g. s3://bucket/prefix (shards/, inputs/, "
                                                "manifest.parquet, stats.json, failures.jsonl)")
    b.add_argument("--staging-dir", help="where samples are staged before their input is committed (default: "
                                         "OUT/_staging, or a local temp dir for a URL); = --set writer.staging_dir=…")
    b.add_argument("--no-lock", action="store_true",
                   help="do not lock the out dir (a store without conditional puts); = --set executor.lock=off")
    _config_args(b)
    b.add_argument("--executor", choices=["local", "ray"], help="= --set executor.kind=…")
    b.add_argument("--ray-address", help="join a Ray cluster (e.g. auto or ray://host:10001); default: start a local Ray")
    b.add_argument("--num-cpus", type=int, help="CPUs of the local Ray instance")
    b.add_argument("--retry-failed", action="store_true", help="retry inputs recorded as failed by an earlier run")
    b.add_argument("--on-config-change", choices=["error", "restage", "keep"],
                   help="the out dir was built with another config: stop (default), restage everything, or keep staged samples")
    b.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    b.add_argument("--dry-run", action="store_true",
                   help="probe the inputs' headers only and print hours of video, bytes, clips at most, model work")
    b.add_argument("--limit", type=int, metavar="N", help="only the first N inputs (in input order)")
    b.set_defaults(func=_build)

    rc = sub.add_parser("recaption", help="caption a built dataset again from its shards (no decoding of the sources, "
                                          "no annotators) → OUT/side/caption.parquet",
                        description="Reads the clips from OUT/shards, runs the configured captioner (--set caption.*) "
                                    "and writes the side table OUT/side/caption.parquet (= uvc data rerun OUT --stage "
                                    "caption); readers take it with iter_samples(shards, side=OUT).")
    rc.add_argument("out", help="the --out folder or URL of a finished build")
    _config_args(rc)
    rc.add_argument("--no-lock", action="store_true", help="do not lock the out dir; = --set executor.lock=off")
    rc.set_defaults(func=_recaption)

    rr = sub.add_parser("rerun", help="re-run stages of a built dataset from its shards (captions, annotators, task "
                                      "filters) without decoding the sources",
                        description="Redoes the named stages with this config (--recipe/--config/--set as in build) "
                                    "from the shards, then the task filters: caption and filters write side tables "
                                    "(OUT/side/<stage>.parquet); annotator stages rewrite each input's shard group "
                                    "with the new condition members (others copied as bytes). Interrupted: run it "
                                    "again, finished inputs are skipped.")
    rr.add_argument("out", help="the --out folder or URL of a finished build")
    rr.add_argument("--stage", dest="stages", action="append", default=[], required=True,
                    choices=["caption", "annotate", "depth", "pose", "flow", "filters"],
                    help="a stage to re-run (repeatable)")
    rr.add_argument("--force", action="store_true",
                    help="redo the named stages for every input, also those already current for this config (an "
                         "edited sidecar file, a new model behind the same endpoint)")
    _config_args(rr)
    rr.add_argument("--no-lock", action="store_true", help="do not lock the out dir; = --set executor.lock=off")
    rr.set_defaults(func=_rerun)

    r = sub.add_parser("recipes", help="list the named build recipes")
    add_json_flag(r)
    r.set_defaults(func=_recipes)
    c = sub.add_parser("config", help="print the effective build config (recipe + file + --set) as JSON")
    _config_args(c)
    c.set_defaults(func=_config)


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recipe", default="offline", help="named recipe to start from (see `uvc data recipes`; default offline)")
    p.add_argument("--config", help="a TOML or JSON file of BuildConfig fields, applied over the recipe")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one field, e.g. --set split.decode.width=640 --set tasks=depth,gray (repeatable)")


def load_config(args: argparse.Namespace, check: bool = False):
    """recipe → --config → the flags (shorthands for --set) → --set, through the one resolver."""
    from pipelines.recipes import get_recipe
    from uvc_data.configurable import resolve

    extra = []
    for flag, key in (("executor", "executor.kind"), ("ray_address", "executor.ray_address"), ("num_cpus", "executor.num_cpus"),
                      ("on_config_change", "executor.on_config_change")):
        if getattr(args, flag, None) is not None:
            extra.append(f"{key}={getattr(args, flag)}")
    if getattr(args, "retry_failed", False):
        extra.append("executor.retry_failed=true")
    if getattr(args, "quiet", False):
        extra.append("executor.quiet=true")
    if getattr(args, "no_lock", False):
        extra.append("executor.lock=off")
    if getattr(args, "staging_dir", None) is not None:
        extra.append(f"writer.staging_dir={args.staging_dir}")
    return resolve(get_recipe(args.recipe), args.config, [*extra, *args.overrides], check=check)


def _build(args: argparse.Namespace) -> int:
    from pipelines.build import build_dataset, plan_dataset

    cfg = load_config(args)
    if args.dry_run:
        from pipelines.dry_run import format_dry_run

        report = plan_dataset(args.inputs, cfg, args.limit)
        print(format_dry_run(report), file=sys.stderr)
        json.dump(report.to_dict(), sys.stdout, indent=2, sort_keys=True)
        print()
        return 0
    summary = build_dataset(args.inputs, args.out, cfg, args.limit)
    return 0 if summary.samples or not summary.inputs else 1


def _recaption(args: argparse.Namespace) -> int:
    from pipelines.recaption import recaption
    from uvc_data.configurable import validate

    s = recaption(args.out, validate(load_config(args)))
    print(f"recaptioned {s.samples} samples ({s.captioned} captioned, {s.rejected} rejected) → {s.path}",
          file=sys.stderr)
    return 0


def _rerun(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from pipelines.rerun import rerun
    from uvc_data.configurable import validate

    s = rerun(args.out, validate(load_config(args)), args.stages, force=args.force)
    for stage in s.stages:
        print(f"{stage}: {s.redone.get(stage, 0)} inputs redone, {s.skipped.get(stage, 0)} already current, "
              f"{s.samples.get(stage, 0)} samples judged ({s.rejected.get(stage, 0)} rejected)", file=sys.stderr)
    if s.still_differ:
        print(f"note: stages still built with another config: {', '.join(s.still_differ)}", file=sys.stderr)
    json.dump(asdict(s), sys.stdout, indent=2, sort_keys=True)
    print()
    return 0


def _recipes(args: argparse.Namespace) -> int:
    from pipelines.recipes import RECIPES

    rows = [{"name": name, "doc": " ".join((fn.__doc__ or "").split())} for name, fn in RECIPES.items()]
    return emit(rows, args, lambda r: f"{r['name']:12s} {r['doc']}")


def _config(args: argparse.Namespace) -> int:
    from uvc_data.configurable import to_dict

    cfg = load_config(args, check=True)
    json.dump(to_dict(cfg), sys.stdout, indent=2, sort_keys=True)
    print()
    return 0
