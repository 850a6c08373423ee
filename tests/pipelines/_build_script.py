"""A build run as its own process for the kill -9 tests, with optional fault points that SIGKILL this process:

  --kill-in-part N    during the N-th staged part tar, after its first bytes (a half-written `.tmp`)
  --kill-in-shard N   during the N-th shard tar an input commit writes
  --kill-after-commit N   right after the N-th atomic write (build.json, markers, fragments, manifest, reports)
  --kill-after-file NAME  right after the atomic write of a file named NAME (e.g. manifest.parquet)
"""
from __future__ import annotations

import argparse
import os
import signal

from uvc_data.writer import ExecutorConfig, StageSpec, WriterConfig, discover_inputs, run_build
from uvc_data.writer import atomic, commit, staging
from tests.pipelines._steps import slow_annotate_factory, source_stage


def stages(delay: float) -> list[StageSpec]:
    return [StageSpec("decode", source_stage), StageSpec("annotate", slow_annotate_factory(delay))]


def writer_cfg() -> WriterConfig:
    return WriterConfig(samples_per_shard=2, max_shard_bytes=1 << 20)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_in_tar(module, n: int) -> None:
    original, calls = module.write_tar, [0]

    def write_tar(path, samples):
        calls[0] += 1
        if calls[0] != n:
            return original(path, samples)

        def dying():
            for i, item in enumerate(samples):
                if i == 1:
                    _die()
                yield item
            _die()

        return original(path, dying())

    module.write_tar = write_tar


def _kill_after_commit(n: int, name: str = "") -> None:
    original, calls = atomic.commit, [0]

    def commit(tmp, path):
        original(tmp, path)
        calls[0] += 1
        if calls[0] == n or os.path.basename(path) == name:
            _die()

    atomic.commit = commit


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("inputs")
    ap.add_argument("out")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--kill-in-part", type=int, default=0)
    ap.add_argument("--kill-in-shard", type=int, default=0)
    ap.add_argument("--kill-after-commit", type=int, default=0)
    ap.add_argument("--kill-after-file", default="")
    args = ap.parse_args()
    if args.kill_in_part:
        _kill_in_tar(staging, args.kill_in_part)
    if args.kill_in_shard:
        _kill_in_tar(commit, args.kill_in_shard)
    if args.kill_after_commit or args.kill_after_file:
        _kill_after_commit(args.kill_after_commit, args.kill_after_file)
    run_build(discover_inputs([args.inputs]), stages(args.delay), args.out, ExecutorConfig(quiet=True),
              writer_cfg(), "kill-test")


if __name__ == "__main__":
    main()
