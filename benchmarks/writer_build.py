"""Build throughput of uvc_data.writer, local vs Ray, on synthetic inputs (the test steps of tests/pipelines).

    .venv/bin/python benchmarks/writer_build.py --inputs 8 --clips 3 --frames 17 --height 240 --width 416
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
    root = Path(tempfile.mkdtemp(prefix="uvc-writer-bench-"))
    (root / "in").mkdir()
    for i in range(args.inputs):
        write_spec(root / "in" / f"v{i}.json", clips=args.clips, frames=args.frames, height=args.height,
                   width=args.width, seed=i)
    inputs = discover_inputs([str(root / "in")], extensions=(".json",))
    stages = [StageSpec("decode", source_stage), StageSpec("annotate", annotate_stage)]
    writer = WriterConfig(samples_per_shard=8)
    for kind in ("local", "ray"):
        cfg = ExecutorConfig(kind=kind, num_cpus=2 if kind == "ray" else None, quiet=True)
        t0 = time.perf_counter()
        s = run_build(inputs, stages, root / kind, cfg, writer, "bench")
        wall = time.perf_counter() - t0
        t1 = time.perf_counter()
        run_build(inputs, stages, root / kind, cfg, writer, "bench")  # resume of a finished build: finish only
        rerun = time.perf_counter() - t1
        same = all((root / kind / n).read_bytes() == (root / "local" / n).read_bytes()
                   for n in ["manifest.parquet"] + [f"shards/{p.name}" for p in (root / "local" / "shards").iterdir()])
        print(f"{kind:5s} wall {wall:6.2f}s  clips/s {s.clips / wall:5.2f}  stages "
              f"{ {k: round(v, 2) for k, v in s.seconds_per_stage.items()} }  finish {s.pack_seconds:.2f}s ({s.finish_bytes_read} B read)  "
              f"rerun {rerun:.2f}s  MB {s.bytes / 1e6:.1f}  same bytes as local: {same}")


if __name__ == "__main__":
    main()
