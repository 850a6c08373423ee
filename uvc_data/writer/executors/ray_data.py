"""The Ray executor: a thin adapter putting StageRunner and StagingWriter into Ray Data operators.

One operator per stage (an actor pool: steps and their models are built once per actor; GPUs requested only for
stages with num_gpus > 0), then a task-based staging writer (serialisation is CPU work; Ray may fuse it with the
last stage). Records are Envelope objects in a single column; the driver only receives small terminal envelopes.
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import numpy as np

from uvc_data.imports import require
from uvc_data.sample import VideoInput
from uvc_data.writer.config import ExecutorConfig, WriterConfig
from uvc_data.writer.executors.guard import AttemptGuard, Watchdog
from uvc_data.writer.stages import INPUT, SAMPLE, Envelope, StageRunner, StageSpec
from uvc_data.writer.staging import StagingWriter

COLUMN = "item"


def _batch(env: Envelope) -> dict[str, np.ndarray]:
    column = np.empty(1, dtype=object)
    column[0] = env
    return {COLUMN: column}


class StageActor:
    """Ray Data callable class: one StageRunner per actor; yields one batch per output (streams big inputs).

    Each item is guarded (executors/guard.py): an attempt marker before it starts, so an item that kills its worker
    max_crashes times comes back as a failure instead of being retried forever, and a watchdog that stops the worker
    when the item works longer than timeout_s."""

    def __init__(self, spec: StageSpec, first: bool, out_root: str, cfg: ExecutorConfig):
        self.first = first
        self.guard = AttemptGuard(out_root, spec.name, cfg.max_crashes)
        self.watchdog = Watchdog(self.guard, cfg.timeout_s) if cfg.timeout_s > 0 else None
        self.runner = StageRunner(spec, first)

    def _guarded(self, env: Envelope) -> Iterator[Envelope]:
        if env.kind not in (INPUT, SAMPLE):  # terminal envelopes pass through
            yield env
            return
        refused = self.guard.begin(env, self.first)
        if refused is not None:
            yield refused
            return
        clock = self.watchdog.watch(env) if self.watchdog else None
        try:
            for out in self.runner.process(env):
                if clock:
                    clock.pause()  # handing a result on (maybe blocked by backpressure) is not work on the item
                yield out
                if clock:
                    clock.resume()
        finally:
            if clock:
                self.watchdog.release(clock)
        self.guard.end(env)

    def _guarded_batch(self, envs: list[Envelope]) -> list[Envelope]:
        """Several samples at once (a stage with batch_size > 1): each guarded as in `_guarded` and run together;
        the work-time limit then covers the whole batch's call (every item of a hung batch is marked)."""
        todo: list[Envelope] = []
        outs: list[Envelope] = []
        for env in envs:
            refused = self.guard.begin(env, self.first) if env.kind in (INPUT, SAMPLE) else env
            if refused is not None:
                outs.append(refused)  # a terminal envelope passing through, or an item not to run again
            else:
                todo.append(env)
        clocks = [self.watchdog.watch(env) for env in todo] if self.watchdog else []
        try:
            outs += list(self.runner.process_batch(todo))
        finally:
            for clock in clocks:
                self.watchdog.release(clock)
        for env in todo:
            self.guard.end(env)
        return outs

    def __call__(self, batch: dict[str, np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
        envs = list(batch[COLUMN])
        if len(envs) > 1 and not self.first:
            for out in self._guarded_batch(envs):
                yield _batch(out)
            return
        for env in envs:
            for out in self._guarded(env):
                yield _batch(out)


def stage_to_disk(batch: dict[str, np.ndarray], out_root: str, writer: WriterConfig) -> dict[str, np.ndarray]:
    staging = StagingWriter(out_root, writer)
    column = np.empty(len(batch[COLUMN]), dtype=object)
    for i, env in enumerate(batch[COLUMN]):
        column[i] = staging.process(env)
    return {COLUMN: column}


def _compute(ray_data: Any, spec: StageSpec) -> Any:
    if isinstance(spec.concurrency, int):
        return ray_data.ActorPoolStrategy(size=spec.concurrency)
    lo, hi = spec.concurrency
    return ray_data.ActorPoolStrategy(min_size=lo, max_size=hi)


def operator_args(spec: StageSpec, cfg: ExecutorConfig | None = None) -> dict[str, Any]:
    """Resources of one stage's actors (GPUs requested only when the stage asks for them) and their fault policy:
    a dead actor is restarted, each task retried at most max_crashes + 1 times (Ray Data's default is forever) —
    the attempt markers turn the last retry into a recorded failure."""
    args: dict[str, Any] = {"num_cpus": spec.num_cpus}
    if cfg is not None:
        args["max_restarts"] = -1
        args["max_task_retries"] = cfg.max_crashes + 1
    if spec.num_gpus > 0:
        args["num_gpus"] = spec.num_gpus
    return args


def _init_ray(ray: Any, cfg: ExecutorConfig) -> bool:
    """Start (or join) Ray unless already initialised; returns whether this call started it."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True}
    if cfg.ray_address is None:
        kwargs["num_cpus"] = cfg.num_cpus
        kwargs["num_gpus"] = cfg.num_gpus
    else:
        kwargs["address"] = cfg.ray_address
        if cfg.ship_code:
            kwargs["runtime_env"] = shipped_code()
    ray.init(**kwargs)
    return True


def shipped_code() -> dict[str, Any]:
    """runtime_env that ships this toolkit's packages to every node of a cluster (py_modules: uploaded once, cached
    by the cluster), so workers run the driver's code whether or not the nodes have it installed."""
    import importlib

    modules = []
    for name in ("uvc_data", "pipelines"):
        mod = importlib.import_module(name)
        modules.append(os.path.dirname(os.path.abspath(mod.__file__)))
    return {"py_modules": modules, "env_vars": {"RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}}


def run_ray(todo: list[VideoInput], stages: list[StageSpec], out_root: str, writer: WriterConfig,
            cfg: ExecutorConfig, sink) -> None:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray = require("ray", "ray[data]", "the Ray executor")
    ray_data = require("ray.data", "ray[data]", "the Ray executor")
    started = _init_ray(ray, cfg)
    try:
        ctx = ray_data.DataContext.get_current()
        ctx.enable_progress_bars = cfg.ray_progress
        ctx.enable_fallback_to_arrow_object_ext_type = True  # Envelopes travel as Python objects (Ray-internal)
        ctx.max_errored_blocks = -1  # a lost block never aborts the run: its inputs are recorded as failed
        items = [{COLUMN: Envelope.for_input(vi)} for vi in todo]
        # one input per block: a lost or retried block concerns that input alone
        ds = ray_data.from_items(items, override_num_blocks=len(items))
        for i, spec in enumerate(stages):
            ds = ds.map_batches(StageActor, fn_constructor_args=(spec, i == 0, out_root, cfg),
                                batch_size=1 if i == 0 else spec.batch_size,
                                batch_format="numpy", compute=_compute(ray_data, spec), **operator_args(spec, cfg))
        ds = ds.map_batches(stage_to_disk, fn_kwargs={"out_root": out_root, "writer": writer}, batch_size=1,
                            batch_format="numpy", num_cpus=1, max_retries=cfg.max_crashes + 1)
        for row in ds.iter_rows():
            sink(row[COLUMN])
    finally:
        if started:
            ray.shutdown()
