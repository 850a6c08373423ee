"""Captioning throughput: clips per second through the transformers captioner, one clip per `generate` against
several clips per `generate` (left-padded), side by side in one run on the same clips.

The model is a tiny LLaVA built from a config (tests/captions/tiny_models.py; no downloads), run on the CPU: the
ratio says what batching saves in per-call overhead (processor, generate loop, small matmuls), not what a real
VLM gains on a GPU, where a batch fills the device — that needs a GPU to measure. Rounds alternate the batch sizes
so a loaded machine slows each about as much; the best round of each is reported, with the captions checked equal.

    .venv/bin/python benchmarks/bench_captions.py [--clips 16] [--batches 1,4] [--rounds 3] [--hidden 64]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.captions.tiny_models import save_tiny_llava  # noqa: E402
from uvc_data.captioners import CaptionConfig, CaptionContext, build_captioner  # noqa: E402
from uvc_data.captioners.base import CaptionRequest  # noqa: E402


def make_clips(n: int, seed: int = 0) -> list[CaptionRequest]:
    """`n` random clips of 2-4 s at 16 fps, 96×128 (4 to 8 frames shown at 2 fps)."""
    rng = np.random.default_rng(seed)
    return [CaptionRequest(rng.integers(0, 256, (int(rng.integers(32, 65)), 96, 128, 3), dtype=np.uint8), 16.0,
                           CaptionContext(f"clip{i}.mp4", 0.0, 2.0)) for i in range(n)]


def run(clips: int, batches: list[int], rounds: int, hidden: int, layers: int, new_tokens: int) -> dict:
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    with tempfile.TemporaryDirectory() as tmp:
        path = save_tiny_llava(Path(tmp), hidden=hidden, layers=layers, image=56, scale=20.0)
        cfg = CaptionConfig(backend="transformers", model_path=str(path), max_new_tokens=new_tokens, device="cpu",
                            dtype="float32", max_frames=8, sample_fps=2.0)
        cap = build_captioner(cfg)
        cap.setup()
        data = make_clips(clips)
        cap.caption_batch(data[:2])  # warm-up
        best: dict[int, float] = {}
        texts: dict[int, list[str]] = {}
        for _ in range(rounds):
            for b in batches:
                t0 = time.perf_counter()
                out = [t for i in range(0, len(data), b) for t in cap.caption_batch(data[i:i + b])]
                best[b] = min(best.get(b, float("inf")), time.perf_counter() - t0)
                texts[b] = out
        same = all(texts[b] == texts[batches[0]] for b in batches)
        params = sum(p.numel() for p in cap.model.parameters())
    return {"clips": clips, "model_params": params, "max_new_tokens": new_tokens, "captions_equal": same,
            "rows": [{"batch": b, "seconds": round(best[b], 3), "clips_per_s": round(clips / best[b], 2),
                      "speedup": round(best[batches[0]] / best[b], 2)} for b in batches]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--batches", default="1,4")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--new-tokens", type=int, default=16)
    ap.add_argument("--json", help="write the result here too")
    a = ap.parse_args()
    res = run(a.clips, [int(b) for b in a.batches.split(",")], a.rounds, a.hidden, a.layers, a.new_tokens)
    print(f"{res['clips']} clips, tiny LLaVA ({res['model_params']:,} params), {res['max_new_tokens']} new tokens, "
          f"CPU; captions equal across batch sizes: {res['captions_equal']}")
    print("| clips per generate | seconds (best of rounds) | clips / s | speedup |")
    print("|---:|---:|---:|---:|")
    for r in res["rows"]:
        print(f"| {r['batch']} | {r['seconds']:.2f} | {r['clips_per_s']:.2f} | {r['speedup']:.2f}× |")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
