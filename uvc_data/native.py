"""Silence native (C/C++) stderr around calls into libraries that log below our control (MediaPipe's absl/TFLite logs
every graph's set-up details). Python exceptions still propagate; only file descriptor 2 is redirected, briefly."""
from __future__ import annotations

import contextlib
import os
import sys
import threading

_lock = threading.Lock()


@contextlib.contextmanager
def quiet_native_stderr():
    if os.environ.get("UVC_NATIVE_LOGS"):  # set to see them again
        yield
        return
    with _lock:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
