"""Small multi-task Samples built in code (tests, benchmarks): a smooth moving gradient — real structure, not noise —
with a depth-like control video, an inpainting mask and, optionally, a reference image."""
from __future__ import annotations

import numpy as np

from uvc_data.sample import INPAINT_MASK, REF_IMAGES, Provenance, Sample


def synthetic_sample(i: int, frames: int = 3, size: tuple[int, int] = (16, 16), refs: bool = False) -> Sample:
    """Sample number `i` (its content, key and prompt depend on i): tasks t2v, depth, extension, inpainting (+ r2v)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    clip = np.stack([np.stack([(xx * 8 + 20 * t + 40 * i) % 256, (yy * 8) % 256, np.full_like(xx, 60 * i % 256)], -1)
                     for t in range(frames)]).astype(np.uint8)
    mask = np.zeros((frames, h, w), np.uint8)
    mask[:, h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 255
    conditions = {"depth": (255 - clip).astype(np.uint8), INPAINT_MASK: mask}
    tasks = ["t2v", "depth", "extension", "inpainting"]
    if refs:
        conditions[REF_IMAGES] = [np.full((h, w, 3), 255, np.uint8)]
        tasks.append("r2v")
    prov = Provenance(source=f"mem{i}", source_id=f"id{i}", shot=0, clip=i, start_s=0.0, end_s=1.0, src_fps=8.0,
                      src_width=w, src_height=h)
    return Sample(key=f"s{i}", frames=clip, fps=8.0, provenance=prov, prompt=f"a red car number {i}",
                  conditions=conditions, tasks=tasks)
