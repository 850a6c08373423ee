"""Decode + shot split benchmark: one streaming pass (DecodeSplit) against the decode floor and the naive chain.

Rows, measured side by side in one run on a generated 4K 30 fps H.264 clip with hard cuts:
  (a)  decode floor: threaded PyAV decode of the file, frames not converted
  (a') decode + downscale to the working size inside the decoder (variants: to_ndarray/reformat, area/bilinear)
  (c)  the naive chain: PySceneDetect detect() on the file, then a seek + re-decode of every clip's range to cut it,
       and once more per condition pass (--passes, default 3)
  DecodeSplit alone: probe, one threaded decode scaled in the decoder, shot detection on the decoded frames, clips
The full-pipeline row (b) is added by the pipeline benchmark, which imports make_bench_video / decode_floor /
naive_chain from here.

    .venv/bin/python benchmarks/bench_decode.py [--frames 300] [--passes 3] [--num-frames 33] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from uvc_data.clips import ClipConfig  # noqa: E402
from uvc_data.sample import VideoInput  # noqa: E402
from uvc_data.steps.split import DecodeSplit, SplitConfig  # noqa: E402
from uvc_data.testing.synth import SynthVideo, make_video  # noqa: E402
from uvc_data.video.reader import DecodeConfig  # noqa: E402


@dataclass
class Row:
    name: str
    seconds: float
    frames_decoded: int
    clips: int | None = None
    note: str = ""


def make_bench_video(path: str | Path, frames: int = 300, width: int = 3840, height: int = 2160, fps: float = 30.0,
                     seed: int = 0) -> SynthVideo:
    """A 4K (by default) H.264 clip of `frames` frames with hard cuts: shots of 3, 4, 3 s (scaled to `frames`)."""
    parts = [0.3, 0.4, 0.3]
    shots = [max(1, int(frames * p)) for p in parts]
    shots[-1] = frames - sum(shots[:-1])
    return make_video(path, width, height, fps, shots=shots, seed=seed, preset="ultrafast", crf=23)


def decode_floor(path: str | Path, threads: int = 0) -> Row:
    """(a) Threaded PyAV decode of the whole file; frames are not converted."""
    t0 = time.perf_counter()
    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = threads
        for _ in container.decode(stream):
            n += 1
    return Row("(a) decode floor: PyAV threaded decode", time.perf_counter() - t0, n)


def decode_downscale(path: str | Path, width: int = 832, height: int = 480, method: str = "to_ndarray",
                     interpolation: str = "AREA", threads: int = 0) -> Row:
    """(a') Threaded decode + RGB at the working size, scaled in the decoder (swscale), one call per frame."""
    t0 = time.perf_counter()
    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = threads
        for frame in container.decode(stream):
            if method == "reformat":
                frame.reformat(width=width, height=height, format="rgb24", interpolation=interpolation).to_ndarray()
            else:
                frame.to_ndarray(width=width, height=height, format="rgb24", interpolation=interpolation)
            n += 1
    return Row(f"(a') decode + {method}({width}x{height}, {interpolation.lower()})", time.perf_counter() - t0, n)


def _clip_ranges(scenes: list[tuple[float, float]], clips: ClipConfig) -> list[tuple[float, float]]:
    """Back-to-back clip windows inside each scene, trimmed at cuts (what the naive user computes)."""
    out = []
    for i, (a, b) in enumerate(scenes):
        lo = a + (clips.trim_s if i > 0 else 0.0)
        hi = b - (clips.trim_s if i < len(scenes) - 1 else 0.0)
        t = lo
        while t + clips.clip_s <= hi + 1e-9:
            out.append((t, t + clips.clip_s))
            t += clips.clip_s
    return out


def _decode_range(path: str, start: float, end: float, width: int, height: int, fps: float) -> int:
    """Seek to `start`, decode to `end`, keep frames on the target fps grid at the working size."""
    n = 0
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        container.seek(int(start / stream.time_base), stream=stream, backward=True)
        next_t = start
        for frame in container.decode(stream):
            n += 1
            t = float(frame.time)
            if t >= end:
                break
            if t + 1e-9 >= next_t:
                frame.to_ndarray(width=width, height=height, format="rgb24")
                next_t += 1.0 / fps
    return n


def naive_chain(path: str | Path, clips: ClipConfig | None = None, passes: int = 3, width: int = 832,
                height: int = 480) -> Row:
    """(c) PySceneDetect detect() on the file, then a re-decode of each clip range to cut it and `passes` more."""
    from scenedetect import AdaptiveDetector, detect

    clips = clips or ClipConfig(num_frames=33)
    path = str(path)
    t0 = time.perf_counter()
    scene_list = detect(path, AdaptiveDetector())
    if scene_list:
        scenes = [(s.seconds, e.seconds) for s, e in scene_list]
    else:
        with av.open(path) as c:
            scenes = [(0.0, float(c.duration or 0) / av.time_base)]
    ranges = _clip_ranges(scenes, clips)
    t_detect = time.perf_counter() - t0
    decoded = 0
    for _ in range(1 + passes):  # cut once, then once per condition
        for a, b in ranges:
            decoded += _decode_range(path, a, b, width, height, clips.fps)
    return Row(f"(c) naive: detect() + re-decode per clip ×(1+{passes})", time.perf_counter() - t0, decoded,
               len(ranges), f"detect() alone {t_detect:.2f} s")


def decode_split(path: str | Path, clips: ClipConfig | None = None, width: int = 832, height: int = 480) -> Row:
    """DecodeSplit alone over one input: all clips materialised at the working size."""
    step = DecodeSplit(SplitConfig(decode=DecodeConfig(width=width, height=height),
                                   clips=clips or ClipConfig(num_frames=33)))
    t0 = time.perf_counter()
    n = sum(1 for _ in step.run([VideoInput(str(path), "bench")]))
    return Row("DecodeSplit (one pass: decode+scale, shots, clips)", time.perf_counter() - t0,
               step.stats["frames_decoded"], n, f"buffer peak {step.stats['buffer_peak_frames']} frames")


def print_table(rows: list[Row], floor: float) -> None:
    print(f"| {'what':<58} | seconds | × floor | frames decoded | clips | note |")
    print(f"|{'-' * 60}|---------|---------|----------------|-------|------|")
    for r in rows:
        clips = "" if r.clips is None else str(r.clips)
        print(f"| {r.name:<58} | {r.seconds:7.2f} | {r.seconds / floor:7.2f} | {r.frames_decoded:14d} | {clips:>5} |"
              f" {r.note} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--width", type=int, default=3840)
    ap.add_argument("--height", type=int, default=2160)
    ap.add_argument("--passes", type=int, default=3, help="condition passes of the naive chain")
    ap.add_argument("--num-frames", type=int, default=33, help="clip length at 16 fps")
    ap.add_argument("--repeat", type=int, default=3, help="rounds over all rows (interleaved); the fastest is kept")
    ap.add_argument("--keep", help="folder for the generated clip (reused when present)")
    args = ap.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench_decode_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench_{args.width}x{args.height}_{args.frames}.mp4"
    if not path.exists():
        t0 = time.perf_counter()
        make_bench_video(path, args.frames, args.width, args.height)
        print(f"generated {path} in {time.perf_counter() - t0:.1f} s")
    clips = ClipConfig(num_frames=args.num_frames)
    print(f"input: {path} ({os.path.getsize(path) / 1e6:.1f} MB); cores: {os.cpu_count()}; clips: "
          f"{clips.num_frames} frames at {clips.fps} fps")
    runs = [
        lambda: decode_floor(path),
        lambda: decode_downscale(path, method="to_ndarray", interpolation="AREA"),
        lambda: decode_downscale(path, method="reformat", interpolation="AREA"),
        lambda: decode_downscale(path, method="to_ndarray", interpolation="BILINEAR"),
        lambda: naive_chain(path, clips, passes=args.passes),
        lambda: decode_split(path, clips),
    ]
    decode_floor(path)  # warm the page cache
    best: list[Row | None] = [None] * len(runs)
    for _ in range(max(1, args.repeat)):  # interleaved rounds: background load hits every row alike
        for i, run in enumerate(runs):
            row = run()
            if best[i] is None or row.seconds < best[i].seconds:  # type: ignore[union-attr]
                best[i] = row
    rows = [r for r in best if r is not None]
    print(f"fastest of {args.repeat} interleaved rounds")
    print_table(rows, rows[0].seconds)


if __name__ == "__main__":
    main()
