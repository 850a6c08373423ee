"""Fetch the metric weights into the documented layout (uvc_bench.metrics.layout): SHA-256 checked, resumable,
renamed into place atomically. Nothing here runs at scoring time. A failed file does not stop the others: every
file is tried and the run ends with a summary (WeightsFetchError lists each failure).

Hub-hosted files (`hub` set) are fetched with huggingface_hub at the manifest's revision and checked against what the
Hub publishes for that revision: the SHA-256 of an LFS file (its ETag) or the git blob SHA-1 of a regular one.
Other files (GitHub releases) are fetched over HTTP with Range resume on a `.part` file.

    python -m uvc_bench.weights list
    python -m uvc_bench.weights fetch --dest ./weights dino_vitb16 laion_aesthetic [--base-url URL] [--allow-unverified]

A manifest entry gives the full `sha256` or, where only that is published, the `sha256_prefix` embedded in the file
name (torchvision and pyiqa name files `<stem>-<first 8 hex of sha256>.pth`). Entries with neither are fetched only
with `allow_unverified=True`, and their computed digests are returned so they can be pinned.
"""
from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from uvc_data.errors import ConfigError, UnknownNameError, UVCError

CHUNK = 1 << 20


class DownloadError(UVCError):
    """A download failed or was cut short; a partial file is kept for resuming where the message says."""


class ChecksumMismatchError(UVCError):
    """A downloaded file's SHA-256 does not match the manifest; the file was deleted."""


class WeightsFetchError(UVCError):
    """Some files could not be fetched; `failed` maps each to its error, `done` holds the files that were."""

    def __init__(self, failed: dict[str, Exception], done: dict[str, str]):
        self.failed, self.done = failed, done
        lines = "\n  ".join(f"{k}: {type(e).__name__}: {e}" for k, e in failed.items())
        super().__init__(f"{len(failed)} weight file(s) could not be fetched ({len(done)} fetched or already "
                         f"there):\n  {lines}")


# The revision every Hub file is fetched at. "main" is NOT a pin: replace it by the commit the numbers were
# produced with (`weights list` marks unpinned entries); the check against the Hub's published hash holds either way.
HUB_REVISION = "main"


@dataclass(frozen=True)
class HubFile:
    repo: str
    filename: str
    revision: str = HUB_REVISION


@dataclass(frozen=True)
class WeightFile:
    dest: str  # path inside the weights folder
    url: str  # official source
    sha256: str | None = None
    sha256_prefix: str | None = None
    hub: HubFile | None = None  # fetched with huggingface_hub, checked against the Hub's published hash

    @property
    def verifiable(self) -> bool:
        return bool(self.sha256 or self.sha256_prefix or self.hub)


def _hf(repo: str, folder: str, files: Iterable[str], revision: str = HUB_REVISION) -> list[WeightFile]:
    return [WeightFile(f"{folder}/{f}", f"https://huggingface.co/{repo}/resolve/{revision}/{f}",
                       hub=HubFile(repo, f, revision)) for f in files]


def _hf_one(repo: str, filename: str, dest: str, revision: str = HUB_REVISION) -> WeightFile:
    return WeightFile(dest, f"https://huggingface.co/{repo}/resolve/{revision}/{filename}",
                      hub=HubFile(repo, filename, revision))


MANIFEST: dict[str, list[WeightFile]] = {
    "dino_vitb16": _hf("facebook/dino-vitb16", "dino_vitb16", ("config.json", "pytorch_model.bin")),
    "clip_vitb32": _hf("openai/clip-vit-base-patch32", "clip_vitb32", ("config.json", "pytorch_model.bin")),
    "clip_vitl14": _hf("openai/clip-vit-large-patch14", "clip_vitl14", ("config.json", "pytorch_model.bin")),
    "laion_aesthetic": [WeightFile("laion_aesthetic/sa_0_4_vit_l_14_linear.pth",
                                   "https://github.com/LAION-AI/aesthetic-predictor/raw/main/sa_0_4_vit_l_14_linear.pth")],
    "musiq_spaq": [WeightFile("musiq/musiq_spaq_ckpt-358bb6af.pth",
                              "https://github.com/chaofengc/IQA-PyTorch/releases/download/v0.1-weights/"
                              "musiq_spaq_ckpt-358bb6af.pth", sha256_prefix="358bb6af")],
    "amt_s": [_hf_one("lalala125/AMT", "amt-s.pth", "amt/amt-s.pth")],
    # the same raft-things.pth VBench unpacks from RAFT's models.zip; VACE's annotator repo serves it as a single file
    "raft_things": [_hf_one("ali-vilab/VACE-Annotators", "flow/raft-things.pth", "raft/raft-things.pth")],
}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def git_blob_sha1(path: Path) -> str:
    """The git object id of a file (sha1 of "blob <size>\\0" + bytes): what the Hub publishes for non-LFS files."""
    h = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def hub_published_hash(hub: HubFile, timeout: float, endpoint: str | None = None) -> str:
    """The hash the Hub publishes for the file at its revision: 64 hex = SHA-256 (LFS), 40 hex = git blob SHA-1."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        meta = get_hf_file_metadata(hf_hub_url(hub.repo, hub.filename, revision=hub.revision, endpoint=endpoint),
                                    timeout=timeout, endpoint=endpoint)
    except Exception as exc:  # noqa: BLE001 — huggingface_hub raises httpx / its own errors; all mean "cannot reach"
        raise DownloadError(f"cannot read the Hub's metadata of {hub.repo}/{hub.filename}@{hub.revision}: "
                            f"{type(exc).__name__}: {exc}") from exc
    etag = (meta.etag or "").lower()
    if len(etag) not in (40, 64) or any(c not in "0123456789abcdef" for c in etag):
        raise ChecksumMismatchError(f"the Hub publishes no hash for {hub.repo}/{hub.filename} (etag {meta.etag!r})")
    return etag


def _hub_matches(path: Path, published: str) -> bool:
    return (sha256_of(path) if len(published) == 64 else git_blob_sha1(path)) == published


def fetch_hub_file(entry: WeightFile, dest: Path, timeout: float = 60.0, endpoint: str | None = None) -> tuple[Path, str]:
    """One Hub file at its revision with huggingface_hub (resumable), checked against the Hub's published hash and
    the manifest's sha256 when it pins one; moved into dest/entry.dest atomically."""
    import shutil
    import tempfile

    from huggingface_hub import hf_hub_download

    assert entry.hub is not None
    hub = entry.hub
    target = dest / entry.dest
    published = hub_published_hash(hub, timeout, endpoint)
    if target.exists():
        if _hub_matches(target, published) and (not entry.sha256 or sha256_of(target) == entry.sha256):
            return target, sha256_of(target)
        raise ChecksumMismatchError(f"{target} exists but does not match {hub.repo}/{hub.filename}@{hub.revision}; "
                                    "delete it and fetch again")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch_", dir=target.parent))
    try:
        try:
            got = Path(hf_hub_download(hub.repo, hub.filename, revision=hub.revision, local_dir=staging,
                                       etag_timeout=timeout, endpoint=endpoint))
        except Exception as exc:  # noqa: BLE001
            raise DownloadError(f"download of {hub.repo}/{hub.filename}@{hub.revision} failed: "
                                f"{type(exc).__name__}: {exc}; run fetch again") from exc
        digest = sha256_of(got)
        if not _hub_matches(got, published) or (entry.sha256 and digest != entry.sha256.lower()):
            raise ChecksumMismatchError(f"{hub.repo}/{hub.filename}@{hub.revision}: the downloaded file does not "
                                        f"match the Hub's published hash {published} (sha256 {digest}); deleted")
        os.replace(got, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target, digest


def _matches(entry: WeightFile, digest: str) -> bool:
    if entry.sha256:
        return digest == entry.sha256.lower()
    if entry.sha256_prefix:
        return digest.startswith(entry.sha256_prefix.lower())
    return True


def _download(url: str, part: Path, timeout: float) -> None:
    """Append the rest of `url` to `part` (Range from its size); restart when the server ignores the range."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the part file is complete
            return
        raise DownloadError(f"GET {url} failed: HTTP {exc.code} {exc.reason}; check the URL or --base-url") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DownloadError(f"GET {url} failed: {exc}; check the network or use --base-url for a mirror") from exc
    with resp:
        mode = "ab" if resp.status == 206 else "wb"
        expected = resp.headers.get("Content-Length")
        got = 0
        with open(part, mode) as f:
            try:
                for block in iter(lambda: resp.read(CHUNK), b""):
                    f.write(block)
                    got += len(block)
            except (OSError, ValueError, http.client.HTTPException) as exc:  # reset / incomplete read
                raise DownloadError(f"download of {url} interrupted after {got} bytes ({exc}); run fetch again "
                                    f"to resume from {part}") from exc
        if expected is not None and got < int(expected):
            raise DownloadError(f"download of {url} stopped at {got} of {expected} bytes; run fetch again to "
                                f"resume from {part}")


def fetch_file(entry: WeightFile, dest: Path, base_url: str | None = None, allow_unverified: bool = False,
               timeout: float = 60.0, hub_endpoint: str | None = None) -> tuple[Path, str]:
    """Download one file into dest/entry.dest; returns (path, sha256). An existing verified file is kept.
    Hub files go through huggingface_hub unless `base_url` names a plain mirror laid out like the weights folder."""
    if entry.hub is not None and not base_url:
        return fetch_hub_file(entry, dest, timeout, hub_endpoint)
    if not (entry.sha256 or entry.sha256_prefix) and not allow_unverified:
        raise ConfigError("allow_unverified", f"{entry.dest} has no published checksum in the manifest; pin its "
                          "sha256 in the manifest, or pass allow_unverified=True (--allow-unverified) to accept it")
    target = dest / entry.dest
    if target.exists():
        digest = sha256_of(target)
        if _matches(entry, digest):
            return target, digest
        raise ChecksumMismatchError(f"{target} exists but its sha256 {digest} does not match the manifest; "
                                    "delete it and fetch again")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    url = f"{base_url.rstrip('/')}/{entry.dest}" if base_url else entry.url
    _download(url, part, timeout)
    digest = sha256_of(part)
    if not _matches(entry, digest):
        part.unlink()
        want = entry.sha256 or f"{entry.sha256_prefix}…"
        raise ChecksumMismatchError(f"{url}: sha256 {digest} does not match the manifest ({want}); the file was "
                                    "deleted — check the source or the manifest entry")
    os.replace(part, target)  # atomic on one filesystem
    return target, digest


def fetch(names: Iterable[str], dest: str | Path, base_url: str | None = None,
          manifest: Mapping[str, list[WeightFile]] = MANIFEST, allow_unverified: bool = False,
          timeout: float = 60.0, hub_endpoint: str | None = None) -> dict[str, str]:
    """Fetch every file of the named weights into `dest` (the metrics weights folder); returns {path: sha256}.
    Every file is tried; when some fail, WeightsFetchError lists them all (and what was fetched)."""
    out: dict[str, str] = {}
    failed: dict[str, Exception] = {}
    names = list(names)
    for name in names:
        if name not in manifest:
            raise UnknownNameError("weights", name, list(manifest))
    for name in names:
        for entry in manifest[name]:
            try:
                path, digest = fetch_file(entry, Path(dest), base_url, allow_unverified, timeout, hub_endpoint)
            except UVCError as exc:
                failed[entry.dest] = exc
                continue
            out[str(path)] = digest
    if failed:
        raise WeightsFetchError(failed, out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m uvc_bench.weights", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the known weights and their sources")
    f = sub.add_parser("fetch", help="download weights into a folder")
    f.add_argument("names", nargs="*", help="weights to fetch (default: all)")
    f.add_argument("--dest", required=True)
    f.add_argument("--base-url", default=None, help="a mirror laid out like the weights folder")
    f.add_argument("--allow-unverified", action="store_true")
    args = ap.parse_args(argv)
    if args.cmd == "list":
        for name, files in MANIFEST.items():
            for e in files:
                print(f"{name:16s} {e.dest:45s} {e.url}  [{describe_check(e)}]")
        return 0
    try:
        return fetch_and_report(args.names or list(MANIFEST), args.dest, args.base_url, args.allow_unverified)
    except UVCError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def describe_check(e: WeightFile) -> str:
    if e.hub is not None:
        pin = "" if len(e.hub.revision) == 40 else " — revision not pinned to a commit"
        return f"Hub hash at {e.hub.revision}{pin}" + (f", sha256 {e.sha256}" if e.sha256 else "")
    return e.sha256 or (f"sha256 {e.sha256_prefix}…" if e.sha256_prefix else "no published checksum")


def fetch_and_report(names: list[str], dest: str, base_url: str | None, allow_unverified: bool) -> int:
    """Fetch, print every file fetched and a summary of the failures; 0 when all were fetched, else 1."""
    try:
        done = fetch(names, dest, base_url, allow_unverified=allow_unverified)
        failed: dict[str, Exception] = {}
    except WeightsFetchError as exc:  # other errors (an unknown name) are bad input: the caller reports them
        done, failed = exc.done, exc.failed
    for path, digest in done.items():
        print(f"{digest}  {path}")
    for d, exc in failed.items():
        print(f"FAILED {d}: {type(exc).__name__}: {exc}", file=sys.stderr)
    print(f"fetched {len(done)} file(s), {len(failed)} failed", file=sys.stderr if failed else sys.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
