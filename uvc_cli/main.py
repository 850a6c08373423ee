"""`uvc`: one command, a subcommand group per package. Each package's `cli.py` exposes `register(subparsers)`;
heavy imports happen inside the command functions so `--help` stays fast."""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from uvc_data.errors import UVCError

# (group name, module with register(), help)
GROUPS = [
    ("data", "uvc_data.cli", "build multi-task training data (WebDataset shards) from raw videos"),
    ("train", "vdot_train.cli", "VDOT distillation: train, generate, convert, export"),
    ("bench", "uvc_bench.cli", "UVCBench: build suites, generate, score, normalise"),
    ("leaderboard", "leaderboard.cli", "results files → leaderboard site, tables and plots"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="uvc", description="Unified video creation toolkit (dataset builder, VDOT trainer, UVCBench, leaderboard).")
    sub = parser.add_subparsers(dest="group", metavar="{data,train,bench,leaderboard,demo,tasks}")
    for name, module, help_text in GROUPS:
        group = sub.add_parser(name, help=help_text, description=help_text)
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            group.set_defaults(func=lambda args, m=module: _not_built(m))
            continue
        mod.register(group.add_subparsers(dest="command", metavar="COMMAND", required=True))
    tasks = sub.add_parser("tasks", help="list the task registry (UVCBench's 18 tasks, T2V, inpainting)")
    tasks.set_defaults(func=_list_tasks)
    try:
        demo = importlib.import_module("pipelines.demo_cli")
        demo.register(sub)
    except ModuleNotFoundError as exc:
        if exc.name != "pipelines.demo_cli":
            raise
    return parser


def _not_built(module: str) -> int:
    print(f"`{module}` is not part of this installation yet.", file=sys.stderr)
    return 2


def _list_tasks(args: argparse.Namespace) -> int:
    from uvc_data.tasks import all_tasks

    for t in all_tasks():
        flags = "bench" if t.bench else "train-only"
        kind = "compound" if t.compound else "single"
        needs = ", ".join(t.needs) or "-"
        print(f"{t.name:22s} {t.family.value:5s} {flags:10s} {kind:8s} needs: {needs:28s} aliases: {', '.join(t.aliases) or '-'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    # weights come from local paths only: never let a mistyped path turn into a hub download
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # MediaPipe (TFLite, absl) logs every inference-graph detail to stderr; keep warnings and errors of our own
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UVCError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
