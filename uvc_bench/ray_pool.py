"""Ray actors that each hold one bench model (one GPU each when asked) and run batches of cases, and actors that each
hold one Scorer and score cases (RayScorerPool).

A thin adapter: the work of a batch is uvc_bench.generate.run_batch, the same code the in-process path runs. Actors
read the suite and write the videos themselves (atomic renames), so on several nodes the suite and output folders must
be on a shared filesystem; only small log records travel back to the driver.
"""
from __future__ import annotations

from typing import Any, Iterator

from uvc_data.imports import require


class _ModelWorker:
    def __init__(self, name: str, settings: dict[str, Any]):
        from uvc_bench.models.registry import build_model

        self.model = build_model(name, settings)

    def describe(self) -> tuple[str, dict[str, Any], int]:
        return self.model.name, self.model.settings(), self.model.batch_size

    def run(self, cases: list, shape: dict[str, Any], out: str, crf: int) -> list[dict[str, Any]]:
        from uvc_bench.generate import Shape, run_batch

        return run_batch(self.model, cases, Shape(**shape), out, crf)


class RayModelPool:
    def __init__(self, name: str, settings: dict[str, Any], workers: int, gpus_per_worker: float = 0.0,
                 address: str = ""):
        import os

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        self.ray = require("ray", "ray[data]", "multi-GPU generation")
        self._owns = not self.ray.is_initialized()
        if self._owns:
            # "local": start our own instance, never join another job's cluster found in /tmp/ray (shared hosts)
            self.ray.init(address=address or "local", include_dashboard=False, log_to_driver=True)
        actor_cls = self.ray.remote(num_cpus=1, num_gpus=gpus_per_worker)(_ModelWorker)
        self.actors = [actor_cls.remote(name, settings) for _ in range(workers)]

    def describe(self) -> tuple[str, dict[str, Any], int]:
        return self.ray.get(self.actors[0].describe.remote())

    def run(self, batches: list[list], shape: dict[str, Any], out: str, crf: int) -> Iterator[list[dict[str, Any]]]:
        from ray.util import ActorPool

        pool = ActorPool(self.actors)
        yield from pool.map_unordered(lambda actor, batch: actor.run.remote(batch, shape, out, crf), batches)

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        if self._owns:
            self.ray.shutdown()


class _ScorerWorker:
    """One Scorer (every metric model loaded once) scoring the cases it is sent; the same code as one process."""

    def __init__(self, metrics: Any):
        from uvc_bench.metrics.api import Scorer

        self.scorer = Scorer(metrics)

    def describe(self) -> dict[str, Any]:
        s = self.scorer
        return {"backends": dict(s.backends), "missing": dict(s.missing), "fallbacks": dict(s.fallbacks),
                "dtype": s.dtype}

    def score(self, case: Any, path: str, fidelity: bool, run: Any, check: bool, cache: str | None) -> tuple:
        from pathlib import Path

        from uvc_bench.score import score_or_fail
        from uvc_bench.score_cache import ScoreCache

        return score_or_fail(self.scorer, case, Path(path), fidelity, run, check, ScoreCache(cache))


class ScorerInfo:
    """What the driver needs of the actors' Scorer: backends, missing, fallbacks, dtype (no models loaded here)."""

    image_features = None
    reannotators = None

    def __init__(self, d: dict[str, Any]):
        self.backends, self.missing, self.fallbacks, self.dtype = d["backends"], d["missing"], d["fallbacks"], d["dtype"]


class RayScorerPool:
    """Scoring sharded over Ray actors (one GPU each with gpus_per_worker=1); results come back per case, in any
    order, and are assembled by case id, so the numbers are those of one process."""

    def __init__(self, metrics: Any, workers: int, gpus_per_worker: float = 0.0, address: str = ""):
        import os

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        self.ray = require("ray", "ray[data]", "scoring on several actors")
        self._owns = not self.ray.is_initialized()
        if self._owns:
            # "local": start our own instance, never join another job's cluster found in /tmp/ray (shared hosts)
            self.ray.init(address=address or "local", include_dashboard=False, log_to_driver=True)
        actor_cls = self.ray.remote(num_cpus=1, num_gpus=gpus_per_worker)(_ScorerWorker)
        self.actors = [actor_cls.remote(metrics) for _ in range(workers)]

    def describe(self) -> ScorerInfo:
        return ScorerInfo(self.ray.get(self.actors[0].describe.remote()))

    def score(self, cases: list, paths: list, fidelity: bool, run: Any, check: bool,
              cache: str | None) -> Iterator[tuple]:
        from ray.util import ActorPool

        pool = ActorPool(self.actors)
        yield from pool.map_unordered(
            lambda actor, cp: actor.score.remote(cp[0], str(cp[1]), fidelity, run, check, cache), list(zip(cases, paths)))

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        if self._owns:
            self.ray.shutdown()
