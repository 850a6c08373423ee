"""Pure measures behind condition fidelity: masked PSNR/SSIM, flow end-point error, edge F1 with a distance tolerance.
Also skeleton masks of pose renders and the scale/shift-aligned depth error. Images uint8 (..., H, W[, 3]); masks
bool (..., H, W), True = pixels that count."""
from __future__ import annotations

import math

import cv2
import numpy as np

SSIM_C1, SSIM_C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def masked_psnr(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    """PSNR = 10·log10(255² / MSE) with the MSE pooled over the selected pixels (all channels); inf when equal."""
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    if d.ndim == where.ndim + 1:
        d = d.mean(-1)
    mse = float(d[where].mean())
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def ssim_map(a_HW: np.ndarray, b_HW: np.ndarray) -> np.ndarray:
    """SSIM index map (Wang et al. 2004, eq. 13) with an 11×11 Gaussian window, σ = 1.5, on one channel."""
    a, b = a_HW.astype(np.float64), b_HW.astype(np.float64)
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    va, vb, cov = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2, blur(a * b) - mu_a * mu_b
    return ((2 * mu_a * mu_b + SSIM_C1) * (2 * cov + SSIM_C2)) / ((mu_a**2 + mu_b**2 + SSIM_C1) * (va + vb + SSIM_C2))


def masked_ssim(a_THW3: np.ndarray, b_THW3: np.ndarray, where_THW: np.ndarray) -> float:
    """Mean of the per-channel SSIM maps over the selected pixels of every frame."""
    total, count = 0.0, 0
    for a, b, m in zip(a_THW3, b_THW3, where_THW):
        if not m.any():
            continue
        s = np.mean([ssim_map(a[..., c], b[..., c]) for c in range(a.shape[-1])], axis=0)
        total += float(s[m].sum())
        count += int(m.sum())
    return total / count


def end_point_error(f_THW2: np.ndarray, g_THW2: np.ndarray) -> float:
    """Mean end-point error ‖f − g‖₂ over all pixels and frames."""
    return float(np.sqrt(((f_THW2 - g_THW2) ** 2).sum(-1)).mean())


def normalize_per_frame(f_THW2: np.ndarray) -> np.ndarray:
    """Each frame's flow divided by its largest magnitude (the colour wheel's per-frame normalisation)."""
    mag = np.sqrt((f_THW2**2).sum(-1)).reshape(len(f_THW2), -1).max(1)
    return f_THW2 / np.maximum(mag, 1e-6)[:, None, None, None]


def edge_f1(pred_HW: np.ndarray, gt_HW: np.ndarray, tolerance: int) -> tuple[float, float, float]:
    """(precision, recall, F1) of binary edge maps, a pixel matching when the other map has an edge within
    `tolerance` pixels (BSDS-style, with a distance transform instead of one-to-one matching)."""
    pred, gt = pred_HW.astype(bool), gt_HW.astype(bool)
    if not gt.any() and not pred.any():
        return 1.0, 1.0, 1.0
    near = lambda m: cv2.distanceTransform((~m).astype(np.uint8), cv2.DIST_L2, 3) <= tolerance  # noqa: E731
    precision = float((pred & near(gt)).sum() / pred.sum()) if pred.any() else 0.0
    recall = float((gt & near(pred)).sum() / gt.sum()) if gt.any() else 0.0
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return precision, recall, f1


def bsds_tolerance(height: int, width: int) -> int:
    """BSDS's maxDist = 0.0075 of the image diagonal, in pixels (at least 1)."""
    return max(1, round(0.0075 * math.hypot(height, width)))


def skeleton_mask(render_HW3: np.ndarray, level: int = 64) -> np.ndarray:
    """Pixels of an OpenPose-style render (skeleton on black) that belong to the skeleton: brightest channel > `level`.
    The dimmest drawn colour is a limb at 60 % of 255 (153), so `level` only removes codec noise around the lines."""
    return render_HW3.max(-1) > level


def fit_scale_shift(pred: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """Least-squares (s, b) minimising Σ (s·pred + b − target)² over all values (the scale/shift alignment of
    relative depth, MiDaS eq. 4, on 0–255 values); a constant `pred` gets s = 0, b = mean(target)."""
    p, t = pred.astype(np.float64).ravel(), target.astype(np.float64).ravel()
    var = float(((p - p.mean()) ** 2).mean())
    if var == 0:
        return 0.0, float(t.mean())
    s = float(((p - p.mean()) * (t - t.mean())).mean()) / var
    return s, float(t.mean() - s * p.mean())


def aligned_mae(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean |s·pred + b − target| / 255 after the least-squares scale/shift alignment (fit_scale_shift)."""
    s, b = fit_scale_shift(pred, target)
    return float(np.abs(s * pred.astype(np.float64) + b - target.astype(np.float64)).mean() / 255.0)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two maps; 1 when both are constant, 0 when only one is (no linear relation to find)."""
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    x, y = x - x.mean(), y - y.mean()
    nx, ny = float(np.sqrt((x * x).sum())), float(np.sqrt((y * y).sum()))
    if nx == 0 or ny == 0:
        return 1.0 if nx == ny else 0.0
    return float((x * y).sum() / (nx * ny))
