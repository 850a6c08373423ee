"""Fault containment for executors whose workers can die: attempt markers and a per-item work-time limit.

An executor that retries a task after its worker died (Ray) must not retry an input that kills every worker it
touches forever. Before a worker starts on an item (an input in the first stage, a sample in a later one) it records
the attempt in `<staging>/<source_id>/attempts/<stage>-<lineage>.json`; an item that already has `max_crashes`
attempts recorded is not run again: it comes back as a failure "crashed K times", which the collector records for
its input. The marker is removed when the item finishes, so only attempts that never finished count (a crash, a
kill, a timeout).

The time limit counts work only (time spent handing results downstream, blocked by backpressure, is not counted):
an item over `timeout_s` is marked timed out and its worker process exits (os._exit), since a hung native call
cannot be interrupted any other way; the retried task then finds the mark and reports the failure "Timeout".
Steps never see any of this.
"""
from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from uvc_data.writer import atomic
from uvc_data.writer.layout import StagingDir
from uvc_data.writer.stages import FAILED, Envelope

TIMEOUT_EXIT_CODE = 70


def _attempt_name(stage: str, lineage: tuple[int, ...]) -> str:
    return stage + "-" + ("-".join(str(i) for i in lineage) or "input") + ".json"


def crash_failure(stage: str, attempts: int, timed_out: float | None) -> dict[str, Any]:
    """The failure record of an item that never finished (what the collector writes into failed.json)."""
    if timed_out is not None:
        return {"stage": stage, "error": "Timeout", "traceback": "",
                "message": f"worked more than executor.timeout_s={timed_out:g} s on one item in stage {stage}: "
                           "its worker was stopped (raise executor.timeout_s for very long inputs)"}
    return {"stage": stage, "error": "WorkerCrashed", "traceback": "",
            "message": f"crashed {attempts} time{'s' if attempts != 1 else ''} in stage {stage}: the worker "
                       "process died each time it processed this item (a native crash, abort or out-of-memory "
                       "kill); not retried again (executor.max_crashes)"}


def unfinished_failure(staging: StagingDir, source_id: str) -> dict[str, Any] | None:
    """For an input whose records never all came back: the failure its attempt markers prove (an item started and
    never finished: a crash or a timeout), or None when there is none."""
    folder = staging.input_dir(source_id) / "attempts"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        state = json.loads(path.read_text(encoding="utf-8"))
        return crash_failure(state.get("stage", path.stem.split("-")[0]), state.get("attempts", 1), state.get("timed_out"))
    return None


class AttemptGuard:
    """Attempt markers of one stage's items, in the out dir the workers write to."""

    def __init__(self, staging_root: str, stage: str, max_crashes: int):
        self.staging = StagingDir(staging_root)
        self.stage = stage
        self.max_crashes = max_crashes

    def _path(self, env: Envelope):
        return self.staging.input_dir(env.source_id) / "attempts" / _attempt_name(self.stage, env.lineage)

    def begin(self, env: Envelope, first: bool) -> Envelope | None:
        """Record one more attempt at `env`; or, when it must not run again, the FAILED envelope to pass on."""
        path = self._path(env)
        state = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"attempts": 0}
        if state.get("timed_out") is not None or state["attempts"] >= self.max_crashes:
            failure = crash_failure(self.stage, state["attempts"], state.get("timed_out"))
            # a first-stage input may have streamed samples before dying: the failure settles the whole input
            return env.derive(FAILED, failure | {"final": True} if first else failure, lineage=env.lineage)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_json(path, {"attempts": state["attempts"] + 1, "stage": self.stage})
        return None

    def mark_timed_out(self, env: Envelope, limit_s: float) -> None:
        path = self._path(env)
        state = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"attempts": 1}
        atomic.write_json(path, state | {"timed_out": limit_s})

    def end(self, env: Envelope) -> None:
        path = self._path(env)
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()  # only when no other item of the input is in flight
        except OSError:
            pass


class WorkClock:
    """Seconds of work on one item: running between resume() and pause(), stopped while results are handed on."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.since: float | None = None

    def resume(self) -> None:
        self.since = time.monotonic()

    def pause(self) -> None:
        if self.since is not None:
            self.spent += time.monotonic() - self.since
            self.since = None

    def seconds(self) -> float:
        return self.spent + (time.monotonic() - self.since if self.since is not None else 0.0)


class Watchdog:
    """A daemon thread stopping the worker process when an item it watches works past `limit_s`."""

    def __init__(self, guard: AttemptGuard, limit_s: float, poll_s: float = 0.25):
        self.guard, self.limit_s, self.poll_s = guard, limit_s, poll_s
        self._items: dict[int, tuple[Envelope, WorkClock]] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._run, name="uvc-watchdog", daemon=True).start()

    def watch(self, env: Envelope) -> WorkClock:
        clock = WorkClock()
        clock.resume()
        with self._lock:
            self._items[id(clock)] = (env, clock)
        return clock

    def release(self, clock: WorkClock) -> None:
        with self._lock:
            self._items.pop(id(clock), None)

    def _run(self) -> None:
        while True:
            time.sleep(self.poll_s)
            with self._lock:
                late = [env for env, clock in self._items.values() if clock.seconds() > self.limit_s]
            if late:
                for env in late:
                    self.guard.mark_timed_out(env, self.limit_s)
                os._exit(TIMEOUT_EXIT_CODE)  # the executor restarts the worker and retries; the mark settles it
