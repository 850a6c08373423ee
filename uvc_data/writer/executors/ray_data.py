"""The Ray executor: a thin adapter putting StageRunner and StagingWriter into Ray Data operators.

One operator per stage (an actor pool: steps and their models are built once per actor; GPUs requested only for
stages with num_gpus > 0), then a task-based staging writer (serialisation is CPU work; Ray may fuse it with the
last stage). Records are Envelope objects in a single column; samples travel in them as bytes (the clip losslessly
or as the shard's H.264, conditions as the shard's members: uvc_data.writer.transport); the driver only receives
small terminal envelopes. Once the collector says an input is staged, a Ray task commits it (writes its shard group,
fragment and marker).
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import numpy as np

from uvc_data.imports import require
from uvc_data.sample import VideoInput
from uvc_data.errors import UVCError
from uvc_data.writer.config import ExecutorConfig, WriterConfig
from uvc_data.writer.executors import OutSpec, Sink, commit
from uvc_data.writer.executors.guard import AttemptGuard, Watchdog
from uvc_data.writer.stages import INPUT, SAMPLE, Envelope, StageRunner, StageSpec
from uvc_data.writer.staging import StagingWriter
from uvc_data.writer.transport import Transport

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

    def __init__(self, spec: StageSpec, first: bool, staging_root: str, cfg: ExecutorConfig, writer: WriterConfig):
        self.first = first
        self.guard = AttemptGuard(staging_root, spec.name, cfg.max_crashes)
        self.watchdog = Watchdog(self.guard, cfg.timeout_s) if cfg.timeout_s > 0 else None
        # samples leave each stage as bytes (transport.PackedSample), never as raw frames
        self.runner = StageRunner(spec, first, transport=Transport.for_writer(writer))

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


def stage_to_disk(batch: dict[str, np.ndarray], staging_root: str, writer: WriterConfig) -> dict[str, np.ndarray]:
    staging = StagingWriter(staging_root, writer)
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
    """Start (or join) Ray unless already initialised; returns whether this call started it. Without an address
    a new local instance is started (address="local"), never a stray Ray already running on the machine."""
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True}
    if cfg.ray_address is None:
        kwargs["address"] = "local"
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


class RayCommitter:
    """Commits staged inputs as Ray tasks (idempotent: a retried commit writes the same files); `wait()` raises
    after every commit has ended if any failed (its input stays staged: a rerun commits it)."""

    def __init__(self, ray: Any, out: OutSpec, writer: WriterConfig, cfg: ExecutorConfig):
        self.ray, self.out, self.writer = ray, out, writer
        self.task = ray.remote(num_cpus=1, max_retries=cfg.max_crashes)(commit)
        self.pending: dict[str, Any] = {}

    def submit(self, source_id: str) -> None:
        self.pending[source_id] = self.task.remote(self.out, source_id, self.writer)

    def wait(self) -> None:
        errors = []
        for sid, ref in self.pending.items():
            try:
                self.ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - reported together below
                errors.append(f"{sid}: {type(exc).__name__}: {exc}")
        self.pending = {}
        if errors:
            raise UVCError(f"committing {len(errors)} staged input(s) failed (they stay staged; rerun the build to "
                           f"commit them): {errors[0]}")


def _check_staging(ray: Any, out: OutSpec) -> None:
    """An out dir on a store stages in a local scratch dir by default: on several nodes, the commit task of an input
    would not see the samples other nodes staged. Refused unless writer.staging_dir names a shared folder."""
    from pathlib import Path

    from uvc_data.errors import ConfigError
    from uvc_data.remote import is_url
    from uvc_data.writer.store import default_scratch

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if is_url(out.root) and Path(out.staging) == default_scratch(out.root) and len(nodes) > 1:
        raise ConfigError("writer.staging_dir", f"the Ray cluster has {len(nodes)} nodes and {out.root} is not a "
                          f"folder they share, so staging would go to each node's local {out.staging}: set "
                          "writer.staging_dir (--staging-dir) to a folder every node mounts")


def run_ray(todo: list[VideoInput], ready: list[VideoInput], stages: list[StageSpec], out: OutSpec,
            writer: WriterConfig, cfg: ExecutorConfig, sink: Sink) -> None:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray = require("ray", "ray[data]", "the Ray executor")
    ray_data = require("ray.data", "ray[data]", "the Ray executor")
    started = _init_ray(ray, cfg)
    try:
        _check_staging(ray, out)
        committer = RayCommitter(ray, out, writer, cfg)
        for vi in ready:
            committer.submit(vi.source_id)
        if todo:
            _stage(ray_data, todo, stages, out, writer, cfg, sink, committer)
        committer.wait()
    finally:
        if started:
            ray.shutdown()


def _stage(ray_data: Any, todo: list[VideoInput], stages: list[StageSpec], out: OutSpec, writer: WriterConfig,
           cfg: ExecutorConfig, sink: Sink, committer: RayCommitter) -> None:
    ctx = ray_data.DataContext.get_current()
    ctx.enable_progress_bars = cfg.ray_progress
    ctx.enable_fallback_to_arrow_object_ext_type = True  # Envelopes travel as Python objects (Ray-internal)
    ctx.max_errored_blocks = -1  # a lost block never aborts the run: its inputs are recorded as failed
    items = [{COLUMN: Envelope.for_input(vi)} for vi in todo]
    # one input per block: a lost or retried block concerns that input alone
    ds = ray_data.from_items(items, override_num_blocks=len(items))
    for i, spec in enumerate(stages):
        ds = ds.map_batches(StageActor, fn_constructor_args=(spec, i == 0, out.staging, cfg, writer),
                            batch_size=1 if i == 0 else spec.batch_size,
                            batch_format="numpy", compute=_compute(ray_data, spec), **operator_args(spec, cfg))
    ds = ds.map_batches(stage_to_disk, fn_kwargs={"staging_root": out.staging, "writer": writer}, batch_size=1,
                        batch_format="numpy", num_cpus=1, max_retries=cfg.max_crashes + 1)
    for row in ds.iter_rows():
        env = row[COLUMN]
        if sink(env) == "done":
            committer.submit(env.source_id)
