"""`uvc`: one command, a subcommand group per package. Each package's `cli.py` exposes `register(subparsers)`;
heavy imports happen inside the command functions so `--help` stays fast.

Conventions of every command: exit 0 on success, 1 for a runtime error (bad input data, a missing weight or
package, a failed run), 2 for a usage error (a wrong flag, config field or value: argparse's own and ConfigError),
130 on Ctrl-C; data on stdout, logs on stderr; listing commands take `--json`; a closed output pipe (`uvc … | head`)
ends the command quietly; library progress bars and "Loading weights" lines only with `-v`.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from uvc_cli.listing import add_json_flag, emit
from uvc_cli.quiet import configure_output
from uvc_data.errors import ConfigError, UnknownNameError, UVCError

USAGE_ERRORS = (ConfigError, UnknownNameError)

# (group name, module with register(), help)
GROUPS = [
    ("data", "uvc_data.cli", "build multi-task training data (WebDataset shards) from raw videos"),
    ("train", "vdot_train.cli", "VDOT distillation: train, generate, convert, export"),
    ("bench", "uvc_bench.cli", "UVCBench: build suites, generate, score, normalise"),
    ("leaderboard", "leaderboard.cli", "results files → leaderboard site, tables and plots"),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="uvc", description="Unified video creation toolkit (dataset builder, VDOT trainer, UVCBench, leaderboard).")
    parser.add_argument("--version", action="version", version=f"uvc {version()}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="show the libraries' progress bars and info logs (-vv: debug logs of the toolkit)")
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
    add_json_flag(tasks)
    tasks.set_defaults(func=_list_tasks)
    try:
        demo = importlib.import_module("pipelines.demo_cli")
        demo.register(sub)
    except ModuleNotFoundError as exc:
        if exc.name != "pipelines.demo_cli":
            raise
    return parser


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("uvc-toolkit")
    except PackageNotFoundError:
        return "0+unknown (not installed: run from a source tree)"


def _not_built(module: str) -> int:
    print(f"`{module}` is not part of this installation.", file=sys.stderr)
    return 1


def _list_tasks(args: argparse.Namespace) -> int:
    from uvc_data.tasks import all_tasks

    rows = [{"name": t.name, "family": t.family.value, "bench": t.bench, "compound": t.compound,
             "needs": list(t.needs), "aliases": list(t.aliases)} for t in all_tasks()]
    return emit(rows, args, lambda r: (
        f"{r['name']:22s} {r['family']:5s} {'bench' if r['bench'] else 'train-only':10s} "
        f"{'compound' if r['compound'] else 'single':8s} needs: {', '.join(r['needs']) or '-':28s} "
        f"aliases: {', '.join(r['aliases']) or '-'}"))


def _run(func, args: argparse.Namespace) -> int:
    """Run a command; its output is flushed here so a closed pipe is caught like any other."""
    code = int(func(args) or 0)
    sys.stdout.flush()
    return code


def _pipe_closed() -> int:
    """The reader of stdout went away (`uvc … | head`): stop without a traceback. stdout is pointed at /dev/null
    so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, what a shell reports for a command ended by a closed pipe


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
        parser.print_help(sys.stderr)
        return 2
    configure_output(args.verbose)
    try:
        return _run(args.func, args)
    except BrokenPipeError:
        return _pipe_closed()
    except USAGE_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except UVCError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
