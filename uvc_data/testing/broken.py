"""A corpus of unusable inputs, each paired with words its BadInputError message must contain.

make_broken_corpus(folder) writes them all (a few hundred kB, about a second); tests run the splitter on each and
check that a BadInputError with a clear reason comes back — never a hang, a crash or a silent empty result.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from uvc_data.testing.synth import make_video


@dataclass(frozen=True)
class BrokenCase:
    path: str
    reason: str  # a phrase the BadInputError message contains (lower case)
    note: str


def _audio_only(path: Path, seconds: float = 1.0, rate: int = 16000) -> None:
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "mono"
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]  # (channels, n)
        chunk = 1024
        for i in range(0, samples.shape[1], chunk):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, i:i + chunk]), format="fltp",
                                               layout="mono")
            frame.sample_rate = rate
            frame.pts = i
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _damage(data: bytes, at: float, length: int, seed: int) -> bytes:
    """Overwrite `length` bytes at fraction `at` of the file with random bytes."""
    rng = np.random.default_rng(seed)
    out = bytearray(data)
    i = int(len(out) * at)
    out[i:i + length] = rng.integers(0, 256, size=length, dtype=np.uint8).tobytes()
    return bytes(out)


def corrupt_slices(src: str | Path, dst: str | Path, packets: tuple[int, ...], where: str = "mid",
                   length: int = 8) -> Path:
    """Copy an MP4 with `length` bytes inverted inside each listed video packet (decode order), as a bad disk or a
    lossy transfer damages a file. where="mid": in the slice data (the decoder conceals the damage); "head": just past
    the NAL length field, in the slice header (the decoder refuses the packet). The container stays intact."""
    data = bytearray(Path(src).read_bytes())
    with av.open(str(src)) as container:
        places = [(p.pos, p.size) for p in container.demux(video=0) if p.size and p.pos is not None]
    for i in packets:
        pos, size = places[i]
        start = pos + (size // 2 if where == "mid" else 4)
        for off in range(start, min(start + length, pos + size)):
            data[off] ^= 0xFF
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


def make_broken_corpus(folder: str | Path, huge: bool = True) -> dict[str, BrokenCase]:
    """Write the broken corpus into `folder`; returns {case name: BrokenCase}. huge=False skips the 8K+ file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cases: dict[str, BrokenCase] = {}

    def add(name: str, reason: str, note: str) -> Path:
        path = folder / name
        cases[path.stem] = BrokenCase(str(path), reason, note)
        return path

    add("zero_bytes.mp4", "empty file", "0 bytes").write_bytes(b"")
    add("not_a_video.mp4", "not a readable video", "text with a video extension").write_text(
        "this is a text file, not a video\n" * 20)
    add("random_bytes.mkv", "not a readable video", "noise").write_bytes(
        np.random.default_rng(1).integers(0, 256, size=50_000, dtype=np.uint8).tobytes())
    _audio_only(add("audio_only.m4a", "no video", "an AAC track, no video stream"))
    add("missing.mp4", "no such file", "a path that does not exist")

    good = folder / "_good.mp4"
    make_video(good, 160, 96, 25, shots=[30, 30, 30], seed=3)
    data = good.read_bytes()
    add("truncated.mp4", "truncated", "cut at 60%: the index (moov, at the end) is gone").write_bytes(
        data[: int(len(data) * 0.6)])
    fast = folder / "_fast.mp4"
    make_video(fast, 160, 96, 25, shots=[30, 30, 30], seed=4, faststart=True)
    fdata = fast.read_bytes()
    add("truncated_faststart.mp4", "truncated", "cut at 60% with the index at the front: frames run out").write_bytes(
        fdata[: int(len(fdata) * 0.6)])
    add("broken_frames.mp4", "damaged", "random bytes over the middle of the frame data").write_bytes(
        _damage(fdata, 0.45, 8000, seed=5))
    make_video(add("one_frame.mp4", "still image", "a single frame"), 160, 96, 25, shots=[1])
    make_video(add("tiny_8x8.mp4", "too small", "8×8 pixels"), 8, 8, 25, shots=[10])
    if huge:
        make_video(add("huge_9216x4608.mp4", "max_src_pixels", "42 MP frames"), 9216, 4608, 25, shots=[2])
    good.unlink()
    fast.unlink()
    return cases
