"""Optional heavy dependencies, imported where they are used, failing with the exact install line."""
from __future__ import annotations

import importlib
from types import ModuleType

from uvc_data.errors import MissingDependencyError


def require(module: str, pip_name: str | None = None, purpose: str = "") -> ModuleType:
    """Import `module` or raise MissingDependencyError naming the pip line that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" (needed for {purpose})" if purpose else ""
        raise MissingDependencyError(
            f"the Python package `{module}` is not importable{what}: {exc}.\n"
            f"Install it with: pip install {pip_name or module}"
        ) from exc


def available(module: str) -> bool:
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False
