"""Where a results file's numbers come from: toolkit version and git commit, the command line, library versions,
the scoring device / dtype / batch size, and the SHA-256 of every metric weight file used (uvc_bench.results.
Provenance). Scored videos' SHA-256 are recorded per case (CaseResult.video)."""
from __future__ import annotations

import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from uvc_bench.results import Provenance, toolkit_version

LIBRARIES = ("torch", "transformers", "diffusers", "av", "numpy")


def git_commit(where: Path = Path(__file__).resolve().parent) -> str:
    """The commit of the checkout this toolkit runs from ("+dirty" when it has changes), or "unknown"."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                               capture_output=True, text=True, timeout=10)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def library_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    try:
        import av

        out["ffmpeg"] = str(getattr(av, "ffmpeg_version_info", "") or
                            ".".join(map(str, av.library_versions.get("libavcodec", ()))) or "unknown")
    except ImportError:
        out["ffmpeg"] = "not installed"
    return out


def weight_digests(weights_dir: str | None, dimensions: dict[str, str]) -> dict[str, str]:
    """SHA-256 of every weight file the scored dimensions' reference backends loaded, keyed by the path inside
    `weights_dir`. dimensions: dimension → backend actually used (offline backends load no weights)."""
    from uvc_bench.metrics.layout import REFERENCE_WEIGHTS, weight_files
    from uvc_bench.video_io import sha256_file

    out: dict[str, str] = {}
    if weights_dir is None:
        return out
    root = Path(weights_dir)
    for dim, backend in sorted(dimensions.items()):
        if backend.endswith("_offline"):
            continue
        for key in REFERENCE_WEIGHTS.get(dim, ()):
            for f in weight_files(weights_dir, key):
                rel = f.relative_to(root).as_posix()
                if rel not in out:
                    out[rel] = sha256_file(f)
    return out


def collect(device: str, dtype: str, batch_size: int, weights_dir: str | None, backends: dict[str, str],
            command: list[str] | None = None) -> Provenance:
    return Provenance(toolkit_version=toolkit_version(), git_commit=git_commit(),
                      command=list(sys.argv if command is None else command), versions=library_versions(),
                      device=device, dtype=dtype, batch_size=batch_size,
                      weights=weight_digests(weights_dir, backends))
