"""Self-Forcing rollout of the few-step generator (method.md, "Flow matching facts", training rollout).

Over a `StudentSchedule` (labels t_i, noise levels σ_i): start from pure noise; for steps i < k (no grad):
    x̂0 = x − (t_i/1000)·G(x, t_i)              (FM-3 with the label's σ, as the official code recovers x0)
    x  = (1 − σ_{i+1})·x̂0 + σ_{i+1}·ε          (FM-1 re-noise to the next step's true noise level)
step k runs with grad (when asked) and its x̂0 is the generator sample the losses see. One exit step k per training
iteration, shared by the generator step, the critic step and every micro-batch (official `generate_and_sync_list`).
"""
from __future__ import annotations

from typing import Callable

import torch

from vdot_train.flow import StudentSchedule, renoise, x0_from_velocity

# G(x_t [B,C,T,H,W], t [B]) → velocity, with the conditioning already bound
VelocityFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def draw_exit_step(num_steps: int, fixed: int, gen: torch.Generator) -> int:
    """k ∈ {0..K−1} uniformly (fixed = −1), else `fixed`. Always consumes one draw so RNG streams stay aligned."""
    k = int(torch.randint(0, num_steps, (1,), generator=gen).item())
    return k if fixed < 0 else fixed


def rollout(g: VelocityFn, noise: torch.Tensor, schedule: StudentSchedule, exit_step: int, gen: torch.Generator,
            grad: bool = True) -> torch.Tensor:
    """x̂0 at exit step k; steps before k run without grad; step k with grad when `grad`."""
    if not 0 <= exit_step < len(schedule):
        raise ValueError(f"exit step {exit_step} is outside the {len(schedule)}-step schedule")
    b = noise.shape[0]
    x = noise
    for i in range(exit_step):
        with torch.no_grad():
            t = schedule.labels[i].expand(b).to(x.device)
            x0 = x0_from_velocity(x, g(x, t).float(), t)
            x = renoise(x0, schedule.renoise_t(i + 1).to(x.device), generator=gen)
    t = schedule.labels[exit_step].expand(b).to(x.device)
    with torch.set_grad_enabled(grad):
        return x0_from_velocity(x, g(x, t).float(), t)
