"""Full dataset-build benchmark (issue: decode floor vs our pipeline vs the naive chain), side by side in one run.

On a generated 4K 30 fps H.264 clip with hard cuts (benchmarks/bench_decode.make_bench_video):
  (a) decode floor: threaded PyAV decode of the file alone
  (b) our pipeline (`uvc data build`, local executor) with the offline CPU stages: split, clip, gray, flow, masks
      (outpaint + inpaint), shards + manifest
  (c) the naive chain a user writes today: PySceneDetect detect() on the file, then for each clip a seek + re-decode
      to cut and encode it, and again per condition (gray, flow, masks) to compute and encode that condition, then
      shards — the SAME condition and encoding code as (b), so only the decoding strategy differs
Each row runs in a fresh subprocess (peak RSS measured there). Then (b) again on longer inputs: peak memory should
stay flat as the input gets longer.

    .venv/bin/python benchmarks/bench_build.py [--frames 300] [--rounds 2] [--lengths 300,900] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

NUM_FRAMES = 33  # 2.06 s at 16 fps: the generated shots are 3-4 s long
TASKS = ["gray", "flow", "outpainting", "inpainting", "extension"]
ANNOTATORS = ["gray", "flow", "outpaint", "inpaint"]


def build_config():
    from pipelines.recipes import offline

    cfg = offline()
    cfg.tasks = list(TASKS)
    cfg.annotators = list(ANNOTATORS)
    cfg.clip_filters = ["duration", "resolution"]
    cfg.task_filters = []
    cfg.split.clips.num_frames = NUM_FRAMES
    cfg.executor.quiet = True
    return cfg


def row_floor(video: str) -> dict:
    from bench_decode import decode_floor

    r = decode_floor(video)
    return {"seconds": r.seconds, "frames_decoded": r.frames_decoded}


def row_pipeline(video: str, out: str) -> dict:
    from pipelines.build import build_dataset

    t0 = time.perf_counter()
    s = build_dataset([video], out, build_config())
    return {"seconds": time.perf_counter() - t0, "clips": s.samples}


def _decode_clip(path: str, start: float, end: float, width: int, height: int, fps: float, n: int):
    """Seek + decode [start, end) at the working size (centre-cropped like our decoder), nearest frames on the fps grid."""
    import av
    import numpy as np

    frames, times = [], []
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        container.seek(int(start / stream.time_base), stream=stream, backward=True)
        sw, sh = stream.codec_context.width, stream.codec_context.height
        scale = max(width / sw, height / sh)
        tw, th = round(sw * scale) // 2 * 2, round(sh * scale) // 2 * 2
        for frame in container.decode(stream):
            t = float(frame.time)
            if t >= end:
                break
            if t + 1e-9 >= start:
                img = frame.to_ndarray(width=tw, height=th, format="rgb24")
                y, x = (th - height) // 2, (tw - width) // 2
                frames.append(img[y:y + height, x:x + width])
                times.append(t)
    grid = start + np.arange(n) / fps
    idx = np.abs(np.asarray(times)[None, :] - grid[:, None]).argmin(1)
    return np.stack([frames[i] for i in idx])


def row_naive(video: str, out: str) -> dict:
    from bench_decode import _clip_ranges
    from scenedetect import AdaptiveDetector, detect

    from uvc_data.annotators import build_annotator
    from uvc_data.sample import Provenance, Sample
    from uvc_data.shards import SCHEMA, write_tar
    from uvc_data.video.codec import encode_video

    cfg = build_config()
    clips, dec = cfg.split.clips, cfg.split.decode
    annotators = {"gray": build_annotator("gray"), "flow": build_annotator("flow"),
                  "masks": [build_annotator("outpaint"), build_annotator("inpaint")]}
    t0 = time.perf_counter()
    scenes = [(s.seconds, e.seconds) for s, e in detect(video, AdaptiveDetector())]
    ranges = _clip_ranges(scenes, clips)
    items = []
    for i, (a, b) in enumerate(ranges):
        cut = _decode_clip(video, a, b, dec.width, dec.height, clips.fps, clips.num_frames)  # decode #1: cut
        item = {"__key__": f"naive-{i:04d}", "mp4": encode_video(cut, clips.fps, preset=cfg.writer.preset, threads=2)}
        for cond in ("gray", "flow", "masks"):  # one more decode per condition
            frames = _decode_clip(video, a, b, dec.width, dec.height, clips.fps, clips.num_frames)
            s = Sample(f"naive-{i:04d}", frames, clips.fps, Provenance(video, "naive", 0, i, a, b, 30.0, 3840, 2160),
                       tasks=list(TASKS))
            for ann in annotators[cond] if cond == "masks" else [annotators[cond]]:
                ann.process(s)
            for name, value in s.conditions.items():
                crf, preset = (0, "ultrafast") if name.endswith("_mask") else (cfg.writer.crf, cfg.writer.preset)
                item[f"{name}.mp4"] = encode_video(value, clips.fps, crf=crf, preset=preset, threads=2)
        item["json"] = json.dumps({"schema": SCHEMA, "key": item["__key__"]}).encode()
        items.append(item)
    Path(out).mkdir(parents=True, exist_ok=True)
    write_tar(Path(out) / "shard-000000.tar", items)
    return {"seconds": time.perf_counter() - t0, "clips": len(items)}


def _child(kind: str, video: str, out: str) -> None:
    fn = {"floor": lambda: row_floor(video), "pipeline": lambda: row_pipeline(video, out), "naive": lambda: row_naive(video, out)}[kind]
    res = fn()
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(res))


def run(kind: str, video: str, out: str) -> dict:
    p = subprocess.run([sys.executable, __file__, "--child", kind, video, out], capture_output=True, text=True, cwd=ROOT)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{kind} failed:\n{p.stderr[-3000:]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--lengths", default="300,900", help="input lengths (frames) for the memory check of (b)")
    ap.add_argument("--keep", help="folder for generated inputs (reused when present)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(*args.child)
    from bench_decode import make_bench_video

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench_build_"))
    work.mkdir(parents=True, exist_ok=True)

    def video_of(n: int) -> str:
        p = work / f"in{n}" / f"bench_{n}.mp4"
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            print(f"generating {p} ({n} frames of 3840x2160) ...", flush=True)
            make_bench_video(p, frames=n)
            p.with_suffix(".txt").write_text("Moving abstract textures, cut into three shots.")
        return str(p)

    video = video_of(args.frames)
    best: dict[str, dict] = {}
    for r in range(args.rounds):  # interleaved rounds; the fastest of each row is kept
        for kind in ("floor", "pipeline", "naive"):
            out = str(work / f"out_{kind}_{r}")
            subprocess.run(["rm", "-rf", out])
            res = run(kind, video, out)
            print(f"round {r} {kind}: {res}", flush=True)
            if kind not in best or res["seconds"] < best[kind]["seconds"]:
                best[kind] = res
    floor = best["floor"]["seconds"]
    print(f"\n{args.frames} frames 3840x2160 30 fps; clips of {NUM_FRAMES} frames at 16 fps, 832x480; best of {args.rounds}")
    print("| row | seconds | × floor | clips | peak RSS MB |\n|---|---|---|---|---|")
    names = {"floor": "(a) decode floor", "pipeline": "(b) our pipeline", "naive": "(c) naive chain"}
    for k in ("floor", "pipeline", "naive"):
        b = best[k]
        print(f"| {names[k]} | {b['seconds']:.2f} | {b['seconds'] / floor:.2f} | {b.get('clips', '')} | {b['peak_rss_mb']:.0f} |")
    print(f"(c) / (b) = {best['naive']['seconds'] / best['pipeline']['seconds']:.2f}×")
    print("\nmemory of (b) vs input length:\n| frames | seconds | clips | peak RSS MB |\n|---|---|---|---|")
    for n in [int(x) for x in args.lengths.split(",")]:
        res = run("pipeline", video_of(n), str(work / f"out_len_{n}"))
        subprocess.run(["rm", "-rf", str(work / f"out_len_{n}")])
        print(f"| {n} | {res['seconds']:.2f} | {res['clips']} | {res['peak_rss_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
