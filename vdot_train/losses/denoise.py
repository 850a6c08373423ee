"""Fake-score denoising (flow-matching) loss on generator samples (method.md, "Denoising loss for the fake score").

DN-1:  L_φ = mean‖v_φ(x_t, t) − (ε − sg(x̂0))‖²  with x_t = (1 − σ)·sg(x̂0) + σ·ε (flow.add_noise).
"""
from __future__ import annotations

from torch import Tensor

from vdot_train.flow import velocity_target


def denoising_loss(v_pred: Tensor, x0_hat: Tensor, noise: Tensor) -> Tensor:
    """DN-1, mean over all elements, in float32. The target is detached: this loss trains the fake score φ only."""
    if not (v_pred.shape == x0_hat.shape == noise.shape):
        raise ValueError(f"v_pred {tuple(v_pred.shape)}, x0_hat {tuple(x0_hat.shape)} and noise "
                         f"{tuple(noise.shape)} must share one shape")
    target = velocity_target(x0_hat.detach().float(), noise.float())
    return (v_pred.float() - target).pow(2).mean()
