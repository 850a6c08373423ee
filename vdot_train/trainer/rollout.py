"""Self-Forcing rollout of the few-step generator (method.md, "Flow matching facts", training rollout).

Start from pure noise at t_0; for steps i < k (no grad): x̂0 = G(x_{t_i}); x_{t_{i+1}} = renoise(x̂0, t_{i+1});
step k runs with grad (when asked) and its x̂0 is the generator sample the losses see.
"""
from __future__ import annotations

from typing import Callable

import torch

from vdot_train.flow import renoise, x0_from_velocity

# G(x_t [B,C,T,H,W], t [B]) → velocity, with the conditioning already bound
VelocityFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def draw_exit_step(num_steps: int, fixed: int, gen: torch.Generator) -> int:
    """k ∈ {0..K−1} uniformly (fixed = −1), else `fixed`. Always consumes one draw so RNG streams stay aligned."""
    k = int(torch.randint(0, num_steps, (1,), generator=gen).item())
    return k if fixed < 0 else fixed


def rollout(g: VelocityFn, noise: torch.Tensor, timesteps: torch.Tensor, exit_step: int, gen: torch.Generator,
            grad: bool = True) -> torch.Tensor:
    """x̂0 at exit step k; steps before k run without grad; step k with grad when `grad`."""
    b = noise.shape[0]
    x = noise
    for i in range(exit_step):
        with torch.no_grad():
            t = timesteps[i].expand(b).to(x.device)
            x0 = x0_from_velocity(x, g(x, t).float(), t)
            x = renoise(x0, timesteps[i + 1].to(x.device), generator=gen)
    t = timesteps[exit_step].expand(b).to(x.device)
    with torch.set_grad_enabled(grad):
        return x0_from_velocity(x, g(x, t).float(), t)
