"""Run an iterator on a background thread, `size` items ahead, so decoding overlaps with the work done on its output.

PyAV decoding and scaling, OpenCV and x264 release the GIL, so on a 2-core machine the decoder and the annotators run
at the same time. Memory stays bounded by `size` items. Exceptions raised by the producer are re-raised in the
consumer; a consumer that stops early (generator closed) stops the producer.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Iterator, TypeVar

T = TypeVar("T")
_END = object()


def prefetch(make: Callable[[], Iterator[T]], size: int) -> Iterator[T]:
    if size <= 0:
        yield from make()
        return
    q: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = make()
        try:
            for item in source:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as exc:  # handed to the consumer
            put((False, exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()  # run the source's cleanup (e.g. close the video container) now, on this thread

    thread = threading.Thread(target=produce, name="uvc-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=30)
