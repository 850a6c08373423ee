"""One background thread that runs `fn(item)` for each submitted item, in submission order.

The local executor hands each finished sample to it, so encoding and staging sample k overlaps with annotating
sample k+1 (x264, PyAV and OpenCV release the GIL). At most `ahead` items wait (bounded memory: each holds a clip and
its condition videos). An error raised by `fn` stops the worker and is raised again in the submitting thread.
"""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable

_END = object()


class OrderedWorker:
    def __init__(self, fn: Callable[[Any], None], ahead: int = 1, name: str = "uvc-writer"):
        self.fn, self.ahead = fn, ahead
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if ahead > 0:
            self._q: queue.Queue = queue.Queue(maxsize=ahead)
            self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._q.get()
            if item is _END:
                return
            if self._error is None:
                try:
                    self.fn(item)
                except BaseException as exc:  # raised again in the submitting thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def submit(self, item: Any) -> None:
        if self._thread is None:
            self.fn(item)
            return
        self._raise()
        self._q.put(item)

    def close(self) -> None:
        """Wait for every submitted item to be processed; raise the worker's error if there was one."""
        if self._thread is not None:
            self._q.put(_END)
            self._thread.join()
            self._thread = None
        self._raise()

    def __enter__(self) -> "OrderedWorker":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif self._thread is not None:  # the body failed: let the worker finish what it has, keep the body's error
            self._q.put(_END)
            self._thread.join()
            self._thread = None
