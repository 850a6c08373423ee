"""Errors shared by every package, each carrying a message that names what to change."""
from __future__ import annotations


class UVCError(Exception):
    """Base class: every error the toolkit raises on purpose."""


class ConfigError(UVCError, ValueError):
    """A configuration value is invalid. The message names the field and what to change."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"config field `{field}`: {message}")


class MissingDependencyError(UVCError, ImportError):
    """An optional package is not installed. The message gives the exact install line."""


class MissingWeightsError(UVCError, FileNotFoundError):
    """A model weight is missing: says what, where it was looked for, and how to provide it."""

    def __init__(self, what: str, looked_in: list[str] | tuple[str, ...], how: str):
        self.what = what
        self.looked_in = list(looked_in)
        places = "\n".join(f"  - {p}" for p in self.looked_in) or "  (nowhere: no path was configured)"
        super().__init__(f"missing weights for {what}.\nLooked in:\n{places}\nTo provide them: {how}")


class UnusableWeightsError(MissingWeightsError):
    """The weight file exists but is not a checkpoint of the network (unreadable, or wrong keys/shapes). A
    MissingWeightsError, so a scorer records it (and `auto` falls back) as it does an absent file."""

    def __init__(self, what: str, path, problem: str, how: str):
        self.what, self.looked_in = what, [str(path)]
        UVCError.__init__(self, f"unusable weights for {what} at {path}: {problem}. To fix: {how}")


class BadInputError(UVCError):
    """An input file cannot be used (corrupt, empty, not a video, ...). Recorded and skipped, never fatal."""


class InfrastructureError(UVCError):
    """The machinery failed, not the clip: an endpoint still erroring after its retries, a model that would not
    load for a reason other than a missing file, a worker that crashed or timed out. Fails the input (so
    `--retry-failed` redoes it); never a verdict on the content."""


_CUDA_FAULTS = ("CUDA out of memory", "CUDA error", "CUBLAS_STATUS", "CUDNN_STATUS", "out of memory")


def is_infrastructure(exc: BaseException) -> bool:
    """Whether `exc` is a failure of the machinery (fail the input) rather than of the content (reject the clip):
    InfrastructureError, MemoryError, timeouts, connection/HTTP errors, torch's OutOfMemoryError and CUDA runtime
    faults. Bad input and missing weights/dependencies (a configuration state, reported as such) are not."""
    if isinstance(exc, (BadInputError, MissingWeightsError, MissingDependencyError)):
        return False
    if isinstance(exc, (InfrastructureError, MemoryError, TimeoutError, ConnectionError)):
        return True
    if any(cls.__name__ in ("OutOfMemoryError", "URLError", "HTTPError", "RemoteDisconnected")
           for cls in type(exc).__mro__):
        return True
    return isinstance(exc, RuntimeError) and any(s in str(exc) for s in _CUDA_FAULTS)


class UnknownNameError(UVCError, KeyError):
    """An unknown registry name; the message suggests the closest known names."""

    def __init__(self, kind: str, name: str, known: list[str]):
        import difflib

        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}.{hint} Known: {', '.join(sorted(known))}")
        self.args = (str(self),)

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0]
