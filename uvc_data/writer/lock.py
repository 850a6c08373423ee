"""One build per out dir at a time.

Local folder: flock on `<out>/.lock` (the kernel releases it, even after kill -9); on a filesystem without flock
(some network filesystems) an owner file created exclusively instead (`.lock.owner`: host, pid, start), taken over
when its owner is a dead process on this host.
Object store: a lock object `<out>/.lock` created with a conditional PUT (If-None-Match: *), which S3 (and
S3-compatible stores that implement it) refuse when the object exists. Before trusting it the lock probes that the
store really honours the condition (some S3-compatible servers ignore it); a store that does not gets a clear error
naming `executor.lock=off` (`--no-lock`), which skips locking — then only run one build per out dir yourself.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
import uuid
from typing import Any

from uvc_data.errors import UVCError
from uvc_data.writer.store import Store

LOCK, OWNER, PROBE = ".lock", ".lock.owner", ".lock.probe"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _me() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time(), "token": uuid.uuid4().hex}


class BuildLock:
    """acquire() / release() of the out dir `store` (mode "auto": the right lock for the store; "off": none)."""

    def __init__(self, store: Store, mode: str = "auto"):
        self.store = store
        self.mode = mode
        self._fh: Any = None
        self._owned: str | None = None  # the owner file / lock object this process created

    def acquire(self) -> None:
        if self.mode == "off":
            return
        if self.store.remote:
            self._object_lock()
            return
        self._fh = open(self.store.where(LOCK), "w")
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._close()
            raise UVCError(f"another build is running in {self.store}: wait for it, or use another out dir") from None
        except OSError:  # ENOLCK / EOPNOTSUPP / ENOSYS: this filesystem has no flock
            self._close()
            self._exclusive(OWNER, "this filesystem has no flock, so the lock is that file")

    def _close(self) -> None:
        self._fh.close()
        self._fh = None

    def _exclusive(self, rel: str, why: str) -> None:
        """Create `rel` exclusively with this process as owner; a dead owner on this host is taken over."""
        me = _me()
        for _ in range(2):
            try:
                self.store.create_exclusive(rel, json.dumps(me).encode("utf-8"))
            except FileExistsError:
                try:
                    owner = json.loads(self.store.read_bytes(rel) or b"{}")
                except (OSError, ValueError):
                    owner = {}
                if owner.get("host") == me["host"] and not _alive(int(owner.get("pid", -1))):
                    self.store.remove(rel)  # its build died on this host: stale
                    continue
                raise UVCError(
                    f"another build holds {self.store.where(rel)} (host {owner.get('host')}, pid {owner.get('pid')}; "
                    f"{why}): wait for it, use another out dir, or — if no build is running there — delete it"
                ) from None
            self._owned = rel
            return

    def _object_lock(self) -> None:
        bypass = ("set executor.lock=off (--no-lock) to build without a lock, and run only one build per out dir")
        try:
            self._probe()
        except NotImplementedError as exc:
            raise UVCError(f"{self.store}: cannot lock this out dir ({exc}); {bypass}") from None
        except OSError as exc:  # a store answering 501 NotImplemented / 400 to the conditional put
            raise UVCError(f"{self.store}: the store refused a conditional put (If-None-Match) needed for the "
                           f"build lock ({type(exc).__name__}: {exc}); {bypass}") from None
        self._exclusive(LOCK, "the lock object of this out dir, created with a conditional put")

    def _probe(self) -> None:
        """The store must refuse a second conditional put of an existing object; else it ignores the condition."""
        probe = f"{PROBE}-{uuid.uuid4().hex}"  # one per process: two builds starting together do not collide
        self.store.create_exclusive(probe, b"1")
        try:
            self.store.create_exclusive(probe, b"2")
        except FileExistsError:
            return
        finally:
            self.store.remove(probe)
        raise NotImplementedError("the store ignores If-None-Match: a conditional put overwrote an existing object")

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._close()
        if self._owned is not None:
            self.store.remove(self._owned)
            self._owned = None
