"""Bytes the build's driver reads to finish, on synthetic inputs (the test steps of tests/pipelines), local executor.

    PYTHONPATH=. python benchmarks/bench_finish_bytes.py --inputs 8 --clips 3 --frames 17 --height 240 --width 416

On this layout (workers commit shard groups): `stats.json`'s finish_bytes_read (commit markers + manifest
fragments). Run against a checkout of the earlier layout (global shards packed by the driver) it prints what that
driver read instead, counted from what its packer and report opened: every staged part tar once, each input's
marker twice (packing, then the summary).
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.pipelines._steps import annotate_stage, source_stage, write_spec
from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build


def main() -> None:
    ap = argparse.ArgumentParser()
    for name, default in (("inputs", 8), ("clips", 3), ("frames", 17), ("height", 240), ("width", 416)):
        ap.add_argument(f"--{name}", type=int, default=default)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="uvc-finish-bench-"))
    (root / "in").mkdir()
    for i in range(args.inputs):
        write_spec(root / "in" / f"v{i}.json", clips=args.clips, frames=args.frames, height=args.height,
                   width=args.width, seed=i)
    inputs = discover_inputs([str(root / "in")], extensions=(".json",))
    stages = [StageSpec("decode", source_stage), StageSpec("annotate", annotate_stage)]
    out = root / "out"
    t0 = time.perf_counter()
    s = run_build(inputs, stages, out, ExecutorConfig(quiet=True), WriterConfig(samples_per_shard=8), "bench")
    wall = time.perf_counter() - t0
    shards = sum(p.stat().st_size for p in (out / "shards").glob("*.tar"))
    staging = out / "_staging"
    parts = sum(p.stat().st_size for p in staging.glob("*/*.tar"))
    if parts:  # the earlier layout: the driver packed every staged part
        markers = sum(p.stat().st_size for p in staging.glob("*/*.json"))
        read, layout = parts + 2 * markers, "driver packs global shards"
    else:
        read, layout = s.finish_bytes_read, "workers commit shard groups"
    print(f"{layout}: {s.samples} samples, {s.shards} shards, {shards / 1e6:.2f} MB of shards; driver read "
          f"{read / 1e6:.3f} MB to finish in {s.pack_seconds:.2f} s (build wall {wall:.1f} s)")


if __name__ == "__main__":
    main()
