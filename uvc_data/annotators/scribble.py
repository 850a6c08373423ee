"""Scribble control video: white lines on black (VACE's scribble convention). Offline: XDoG (Winnemöller et al.,
"XDoG: an eXtended difference-of-Gaussians compendium", 2012) or Canny; a learned line-art model is a production
option not shipped here (no weights can be loaded offline). Sigmas are given at a 480-pixel frame height and scale with
the working size, so lines look alike at any size."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from uvc_data.annotators.base import Annotator, AnnotatorConfig
from uvc_data.annotators.registry import ANNOTATORS
from uvc_data.errors import ConfigError
from uvc_data.sample import Sample

REFERENCE_HEIGHT = 480
MIN_SIGMA = 0.7  # below this a small frame's blur does nothing and XDoG finds no line


def xdog_lines(gray: np.ndarray, sigma: float, k: float, tau: float, eps: float, phi: float) -> np.ndarray:
    """XDoG line strength in [0, 1] (1 = line) of a gray image (H, W) uint8.

    u = G_σ(I) − τ·G_kσ(I) on I in [0, 1]; XDoG's soft threshold T(u) = 1 if u ≥ ε else 1 + tanh(φ(u − ε));
    lines are 1 − T(u) (white on black).
    """
    import cv2

    img = gray.astype(np.float32) / 255.0
    g1 = cv2.GaussianBlur(img, (0, 0), sigma)
    g2 = cv2.GaussianBlur(img, (0, 0), sigma * k)
    u = g1 - tau * g2
    t = np.where(u >= eps, 1.0, 1.0 + np.tanh(phi * (u - eps)))
    return np.clip(1.0 - t, 0.0, 1.0)


def canny_lines(gray: np.ndarray, sigma: float, low: float, high: float) -> np.ndarray:
    """Canny edges (H, W) in {0, 1} after a Gaussian blur; thresholds are fractions of the median-based scale."""
    import cv2

    blur = cv2.GaussianBlur(gray, (0, 0), sigma)
    med = float(np.median(blur)) or 1.0
    return (cv2.Canny(blur, low * med, high * med) > 0).astype(np.float32)


@dataclass
class ScribbleConfig(AnnotatorConfig):
    backend: str = "xdog"
    sigma: float = 2.0  # at a 480-pixel frame height (tuned by eye on bikes / Big Buck Bunny: fewer texture lines)
    k: float = 1.6
    tau: float = 0.98
    eps: float = -0.02
    phi: float = 100.0
    canny_low: float = 0.66
    canny_high: float = 1.33
    thickness: int = 1  # dilate lines to this width (pixels at 480 height)
    binary: bool = False  # threshold soft XDoG lines at 0.5

    backends: ClassVar[tuple[str, ...]] = ("xdog", "canny")

    def validate(self) -> None:
        super().validate()
        if self.sigma <= 0 or self.k <= 1:
            raise ConfigError("sigma" if self.sigma <= 0 else "k", "need sigma > 0 and k > 1")
        if self.thickness < 1:
            raise ConfigError("thickness", "must be ≥ 1")
        if not 0 < self.canny_low < self.canny_high:
            raise ConfigError("canny_low", "need 0 < canny_low < canny_high")


@ANNOTATORS.register("scribble", ScribbleConfig)
class ScribbleAnnotator(Annotator):
    name = "scribble"
    condition = "scribble"

    def __init__(self, config: ScribbleConfig) -> None:
        super().__init__(config)
        self.config: ScribbleConfig = config

    def load(self) -> Any:
        return self.lines

    def lines(self, frames: np.ndarray) -> np.ndarray:
        """(T, H, W, 3) uint8 RGB → (T, H, W, 3) uint8 white lines on black."""
        import cv2

        c = self.config
        s = frames.shape[1] / REFERENCE_HEIGHT
        width = max(1, round(c.thickness * s))
        sigma = max(MIN_SIGMA, c.sigma * s)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width)) if width > 1 else None
        out = np.empty_like(frames)
        for i, f in enumerate(frames):
            g = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)
            if c.backend == "canny":
                line = canny_lines(g, sigma, c.canny_low, c.canny_high)
            else:
                line = xdog_lines(g, sigma, c.k, c.tau, c.eps, c.phi)
                if c.binary:
                    line = (line > 0.5).astype(np.float32)
            v = np.round(line * 255).astype(np.uint8)
            if kernel is not None:
                v = cv2.dilate(v, kernel)
            out[i] = v[..., None]
        return out

    def annotate(self, sample: Sample) -> np.ndarray:
        lines = self.model(sample.frames)
        sample.signals["scribble_density"] = float(lines[..., 0].mean() / 255.0)
        return lines
