"""`uvc leaderboard build RESULTS... --out SITE`: results files → a static site (works from file://), plots, CSV and
Markdown. See docs/leaderboard.md."""
from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "build", help="results files, folders or globs → static site (index.html, model pages, plots, CSV, Markdown)",
        description="Validate UVCBench results files and write a static leaderboard site. Invalid files are skipped "
                    "with a message naming the file and the problem.")
    p.add_argument("results", nargs="+", metavar="RESULTS",
                   help="results files (results.json), folders (searched recursively) or glob patterns")
    p.add_argument("--out", required=True, metavar="SITE", help="folder to write the site into (new, empty, or a "
                                                                  "previous build)")
    p.add_argument("--title", default="UVCBench leaderboard", help="page title")
    p.add_argument("--generated", default="", metavar="TEXT",
                   help="a note for the footer, e.g. a date (default none: rebuilds are byte-identical)")
    p.add_argument("--strict", action="store_true", help="fail if any input is not a valid results file")
    p.add_argument("--gallery-cases", type=int, default=4, metavar="N",
                   help="cases per task shown as condition | outputs on the task and model pages (0: no gallery; "
                        "default 4)")
    p.add_argument("--gallery-width", type=int, default=192, metavar="PX", help="thumbnail width (default 192)")
    p.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    from leaderboard.gallery import GalleryConfig
    from leaderboard.media import ThumbConfig
    from leaderboard.site import SiteConfig, build

    gallery = GalleryConfig(cases_per_task=args.gallery_cases, thumb=ThumbConfig(width=args.gallery_width))
    cfg = SiteConfig(title=args.title, generated=args.generated, strict=args.strict, gallery=gallery)
    report = build(args.results, args.out, cfg, log=lambda s: print(s, file=sys.stderr))
    for path, why in report.skipped:
        print(f"skipped {path}: {why}", file=sys.stderr)
    if report.ignored:
        print(f"passed over {len(report.ignored)} JSON file(s) in folders that are not results files "
              f"(no schema_version), e.g. {report.ignored[0]}", file=sys.stderr)
    print(f"wrote {report.out / 'index.html'}: {report.entries} run(s), {len(report.files)} files"
          f"{f', {len(report.skipped)} input(s) skipped' if report.skipped else ''}", file=sys.stderr)
    return 0
