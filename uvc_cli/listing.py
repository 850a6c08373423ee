"""Listing commands' output: one text line per row for people, or `--json` (one JSON array on stdout) for programs.

Data goes to stdout, everything else (logs, progress, warnings) to stderr, so `uvc … --json | jq` and
`uvc … | head` see only data.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the list as one JSON array (for programs)")


def emit(rows: list[dict[str, Any]], args: argparse.Namespace, line: Callable[[dict[str, Any]], str]) -> int:
    """Write `rows` to stdout: as JSON with --json, else `line(row)` per row."""
    if getattr(args, "json", False):
        json.dump(rows, sys.stdout, indent=1, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    else:
        for row in rows:
            sys.stdout.write(line(row) + "\n")
    return 0
