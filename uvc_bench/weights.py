"""Fetch the metric weights into the documented layout (uvc_bench.metrics.layout): SHA-256 checked, resumable
(HTTP Range on a `.part` file), renamed into place atomically. Nothing here runs at scoring time.

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


@dataclass(frozen=True)
class WeightFile:
    dest: str  # path inside the weights folder
    url: str  # official source
    sha256: str | None = None
    sha256_prefix: str | None = None

    @property
    def verifiable(self) -> bool:
        return bool(self.sha256 or self.sha256_prefix)


def _hf(repo: str, folder: str, files: Iterable[str]) -> list[WeightFile]:
    return [WeightFile(f"{folder}/{f}", f"https://huggingface.co/{repo}/resolve/main/{f}") for f in files]


MANIFEST: dict[str, list[WeightFile]] = {
    "dino_vitb16": _hf("facebook/dino-vitb16", "dino_vitb16", ("config.json", "pytorch_model.bin")),
    "clip_vitb32": _hf("openai/clip-vit-base-patch32", "clip_vitb32", ("config.json", "pytorch_model.bin")),
    "clip_vitl14": _hf("openai/clip-vit-large-patch14", "clip_vitl14", ("config.json", "pytorch_model.bin")),
    "laion_aesthetic": [WeightFile("laion_aesthetic/sa_0_4_vit_l_14_linear.pth",
                                   "https://github.com/LAION-AI/aesthetic-predictor/raw/main/sa_0_4_vit_l_14_linear.pth")],
    "musiq_spaq": [WeightFile("musiq/musiq_spaq_ckpt-358bb6af.pth",
                              "https://github.com/chaofengc/IQA-PyTorch/releases/download/v0.1-weights/"
                              "musiq_spaq_ckpt-358bb6af.pth", sha256_prefix="358bb6af")],
    "amt_s": [WeightFile("amt/amt-s.pth", "https://huggingface.co/lalala125/AMT/resolve/main/amt-s.pth")],
    # the same raft-things.pth VBench unpacks from RAFT's models.zip; VACE's annotator repo serves it as a single file
    "raft_things": [WeightFile("raft/raft-things.pth",
                               "https://huggingface.co/ali-vilab/VACE-Annotators/resolve/main/flow/raft-things.pth")],
}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


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
               timeout: float = 60.0) -> tuple[Path, str]:
    """Download one file into dest/entry.dest; returns (path, sha256). An existing verified file is kept."""
    if not entry.verifiable and not allow_unverified:
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
          timeout: float = 60.0) -> dict[str, str]:
    """Fetch every file of the named weights into `dest` (the metrics weights folder); returns {path: sha256}."""
    out: dict[str, str] = {}
    names = list(names)
    for name in names:
        if name not in manifest:
            raise UnknownNameError("weights", name, list(manifest))
    for name in names:
        for entry in manifest[name]:
            path, digest = fetch_file(entry, Path(dest), base_url, allow_unverified, timeout)
            out[str(path)] = digest
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
                check = e.sha256 or (f"sha256 {e.sha256_prefix}…" if e.sha256_prefix else "no published checksum")
                print(f"{name:16s} {e.dest:45s} {e.url}  [{check}]")
        return 0
    try:
        for path, digest in fetch(args.names or list(MANIFEST), args.dest, args.base_url,
                                  allow_unverified=args.allow_unverified).items():
            print(f"{digest}  {path}")
    except UVCError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
