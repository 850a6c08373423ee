"""Does the output follow its condition? (uvcbench.md, "Beyond VBench"). Reported next to NA, never folded into it.

Per task (a task may get several):
- kept region (every task whose VCU keeps pixels, mask 0: outpainting, extension, inpainting, firstframe+X):
  kept_psnr (dB), kept_ssim over the kept pixels, against the VCU's frames;
- gray control: gray_psnr, gray_l1 between the output's BT.601 luma and the gray input, on the control frames;
- flow control: flow_epe (pixels) between DIS flow of the output and DIS flow recomputed from `source` when given;
  without the source, the input is decoded from its Middlebury colours (per-frame normalised, so the scale is lost):
  flow_epe_normalized compares both flows each divided by its frame's largest magnitude;
- scribble control: edge_precision / edge_recall / edge_f1 between the output re-annotated with the dataset's
  scribble annotator and the binarised input scribble, tolerance 0.75 % of the diagonal;
- reference images (r2v, reference+X): ref_clip_similarity, per reference the best cosine over output frames,
  averaged — needs CLIP image features (Scorer.image_features); otherwise skipped with the reason.
- depth / pose control: re-annotation with the dataset's annotators (fidelity_reannotation.py):
  depth_reannot_mae, depth_reannot_corr; pose_skeleton_precision / _recall / _f1, pose_person_recall. Pass
  `reannotators=Scorer.reannotators` (loaded once per Scorer); without it a default set is built for the call
  (offline MediaPipe pose, no depth weights → depth skipped with the setting to set).
Control frames: the VCU frames with mask 1 (for firstframe+X the real first frame is excluded). Flow control frame t
(t ≥ 1) shows the flow from frame t−1 to t (uvc_data.annotators.flow), so it is paired with the output pair (t−1, t).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from uvc_bench.metrics import fidelity_measures as fm
from uvc_bench.metrics.fidelity_reannotation import Reannotators, depth_fidelity, pose_fidelity
from uvc_bench.metrics.flow import DISFlow, to_gray
from uvc_data.errors import BadInputError
from uvc_data.tasks import get_task
from uvc_data.vcu import to_uint8

if TYPE_CHECKING:
    from uvc_data.vcu import VCU

ImageFeatures = Callable[[np.ndarray], "np.ndarray | None"]  # (N, H, W, 3) uint8 → (N, D) L2-normalised


@dataclass
class FidelityResult:
    values: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # measure → why it was not computed


def condition_fidelity(task: str, output: np.ndarray, vcu: "VCU", source: np.ndarray | None = None,
                       image_features: ImageFeatures | None = None,
                       reannotators: Reannotators | None = None) -> dict[str, float]:
    """The fidelity measures of `task` for one output video (T, H, W, 3) uint8; see the module docstring."""
    return condition_fidelity_report(task, output, vcu, source, image_features, reannotators).values


def condition_fidelity_report(task: str, output: np.ndarray, vcu: "VCU", source: np.ndarray | None = None,
                              image_features: ImageFeatures | None = None,
                              reannotators: Reannotators | None = None) -> FidelityResult:
    t = get_task(task)
    _check(output, vcu, source)
    res = FidelityResult()
    kept = vcu.masks < 0.5  # (T, H, W)
    if kept.any():
        ref = np.where(kept[..., None], to_uint8(vcu.frames), output)  # generated pixels cannot leak into windows
        res.values["kept_psnr"] = fm.masked_psnr(output, ref, kept)
        res.values["kept_ssim"] = fm.masked_ssim(output, ref, kept)
    control_t = np.flatnonzero(vcu.masks.reshape(len(vcu.masks), -1).mean(1) > 0.5)  # frames showing the control
    if t.control == "gray":
        _gray(res, output, vcu, control_t)
    elif t.control == "flow":
        _flow(res, output, vcu, control_t, source)
    elif t.control == "scribble":
        _scribble(res, output, vcu, control_t)
    elif t.control in ("depth", "pose") and len(control_t):
        measure = depth_fidelity if t.control == "depth" else pose_fidelity
        measure(res, output, vcu, control_t, reannotators or Reannotators())
    if t.references:
        _references(res, output, vcu, image_features)
    return res


def _check(output: np.ndarray, vcu: "VCU", source: np.ndarray | None) -> None:
    if not isinstance(output, np.ndarray) or output.dtype != np.uint8 or output.ndim != 4:
        raise BadInputError("output must be a (T, H, W, 3) uint8 video")
    if output.shape != vcu.frames.shape:
        raise BadInputError(f"output {output.shape} does not match the VCU {vcu.frames.shape}; generate at the "
                            "case's frame count and size (or resize the output before scoring fidelity)")
    if source is not None and source.shape != output.shape:
        raise BadInputError(f"source {source.shape} does not match the output {output.shape}")


def _gray(res: FidelityResult, output: np.ndarray, vcu: "VCU", ts: np.ndarray) -> None:
    gray_in = to_uint8(vcu.frames[ts, ..., 0])  # (N, H, W)
    gray_out = np.stack([to_gray(output[i]) for i in ts])
    res.values["gray_psnr"] = fm.masked_psnr(gray_out, gray_in, np.ones(gray_in.shape, bool))
    res.values["gray_l1"] = float(np.abs(gray_out.astype(np.float64) - gray_in).mean())


def _flow(res: FidelityResult, output: np.ndarray, vcu: "VCU", ts: np.ndarray, source: np.ndarray | None) -> None:
    ts = ts[ts >= 1]
    if len(ts) == 0:
        res.skipped["flow_epe"] = "no flow control frame after the first frame"
        return
    dis = DISFlow()
    out_flow = np.stack([dis(output[i - 1], output[i]) for i in ts])  # (N, H, W, 2)
    if source is not None:
        src_flow = np.stack([dis(source[i - 1], source[i]) for i in ts])
        res.values["flow_epe"] = fm.end_point_error(out_flow, src_flow)
        return
    try:
        from uvc_data.annotators.flow_color import flow_from_color
    except ImportError as exc:
        res.skipped["flow_epe_normalized"] = f"no source video and the colour-wheel decoder is unavailable: {exc}"
        return
    in_flow = flow_from_color(to_uint8(vcu.frames[ts]), max_radius=1.0)
    res.values["flow_epe_normalized"] = fm.end_point_error(fm.normalize_per_frame(out_flow), in_flow)
    res.skipped["flow_epe"] = "no source video given: the colour-wheel input has no absolute scale"


MIN_LINE_PEAK = 16  # a frame whose brightest pixel is darker holds no line: a black control's codec noise is not a drawing


def scribble_lines(control: np.ndarray) -> np.ndarray:
    """The line pixels of scribble frames (N, H, W) uint8, white lines on black (the control, and the output's own
    lines): above half of each frame's brightest pixel — for lines drawn at full strength the usual > 127. A control
    read at a smaller size than it was drawn has its one-pixel lines area-averaged to gray (at 32 × 32 from 144 × 256
    none reaches 128, and a fixed threshold found no line at all); here it keeps them. A frame peaking below
    MIN_LINE_PEAK has none."""
    peak = control.reshape(len(control), -1).max(1).astype(np.float32)[:, None, None]
    return (control.astype(np.float32) > 0.5 * peak) & (peak >= MIN_LINE_PEAK)


def _scribble(res: FidelityResult, output: np.ndarray, vcu: "VCU", ts: np.ndarray) -> None:
    try:
        from uvc_data.annotators.scribble import ScribbleAnnotator, ScribbleConfig
    except ImportError as exc:
        res.skipped["edge_f1"] = f"the scribble annotator is unavailable: {exc}"
        return
    lines = scribble_lines(ScribbleAnnotator(ScribbleConfig()).lines(output[ts])[..., 0])  # (N, H, W)
    target = scribble_lines(to_uint8(vcu.frames[ts]).max(-1))
    tol = fm.bsds_tolerance(*output.shape[1:3])
    prf = np.array([fm.edge_f1(p, g, tol) for p, g in zip(lines, target)]).mean(0)
    res.values.update(edge_precision=float(prf[0]), edge_recall=float(prf[1]), edge_f1=float(prf[2]))


def _references(res: FidelityResult, output: np.ndarray, vcu: "VCU", image_features: ImageFeatures | None) -> None:
    if not vcu.refs:
        res.skipped["ref_clip_similarity"] = "the VCU holds no reference image"
        return
    feats = None if image_features is None else image_features(output)
    if feats is None:
        res.skipped["ref_clip_similarity"] = ("no CLIP image encoder: give image_features=Scorer.image_features with "
                                              "the CLIP ViT-B/32 weights in metrics.weights_dir")
        return
    ref_feats = image_features(np.stack([to_uint8(r) for r in vcu.refs]))  # (R, D)
    res.values["ref_clip_similarity"] = float((ref_feats @ feats.T).max(1).mean())
