"""Typed configs of the build writer (shards, encoding) and of the executor (local / Ray, resume policy)."""
from __future__ import annotations

from dataclasses import dataclass, field

from uvc_data.configurable import neutral
from typing import Literal

from uvc_data.errors import ConfigError
from uvc_data.writer.transport import TransportConfig

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


@dataclass
class WriterConfig:
    """How staged samples are encoded and packed.

    `crf`, `preset`, `encode_threads` and `lean` change the bytes of every staged sample, so they are part of the out dir's fingerprint;
    `samples_per_shard` and `max_shard_bytes` only change packing and may differ between runs (they apply to the
    inputs a run commits; committed shard groups are never rewritten).
    """

    samples_per_shard: int = neutral("packing only (applies to inputs committed from then on)", default=1000)  # video2dataset's default
    # a shard closes before it would exceed this (one bigger sample: alone)
    max_shard_bytes: int = neutral("packing only", default=512 * 1024 * 1024)
    crf: int = 18  # H.264 quality of clips and control videos (masks are always lossless)
    preset: str = "veryfast"  # x264 preset
    # x264 threads per encode; fixed so the bytes do not depend on the machine (0 = auto). The one thread count that
    # is part of the fingerprint: x264's frame threading changes the bitstream with the number of threads.
    encode_threads: int = 2
    lean: bool = True  # shard schema uvc-sample/2: gray derived when read, masks 1-bit packed (False: uvc-sample/1)
    # manifest rows buffered per Parquet row group (bounds packing memory)
    manifest_row_group: int = neutral("packing memory only", default=8192)
    # local executor: samples waiting for the background encoder (0 = encode in the loop)
    encode_ahead: int = neutral("overlap only: the same bytes are encoded", default=1)
    # where samples are staged before their input's shard group is committed (None: <out>/_staging for a local out
    # dir, a local scratch dir under the system temp dir for a URL such as s3://). On a multi-node Ray cluster it
    # must be a folder every node mounts (the commit task of an input reads all of its staged samples).
    staging_dir: str | None = neutral("temporary files only", default=None)
    # how a sample's clip travels between stages (uvc_data.writer.transport): "lossless" keeps the bytes of a build
    # whatever the executor; "shard" (lossy, later stages see the decoded shard clip) changes them
    transport: TransportConfig = field(default_factory=TransportConfig)

    def validate(self) -> None:
        if self.samples_per_shard < 1:
            raise ConfigError("writer.samples_per_shard", f"must be >= 1, got {self.samples_per_shard}")
        if self.max_shard_bytes < 1024 * 1024:
            raise ConfigError("writer.max_shard_bytes", f"must be >= 1 MiB (1048576), got {self.max_shard_bytes}")
        if not 0 <= self.crf <= 51:
            raise ConfigError("writer.crf", f"H.264 CRF is 0..51, got {self.crf}")
        if self.preset not in X264_PRESETS:
            raise ConfigError("writer.preset", f"{self.preset!r} is not an x264 preset; use one of {X264_PRESETS}")
        if self.encode_threads < 0:
            raise ConfigError("writer.encode_threads", f"must be >= 0 (0 = auto), got {self.encode_threads}")
        if self.encode_ahead < 0:
            raise ConfigError("writer.encode_ahead", f"must be >= 0 (0 = encode in the loop), got {self.encode_ahead}")
        if self.manifest_row_group < 1:
            raise ConfigError("writer.manifest_row_group", f"must be >= 1, got {self.manifest_row_group}")


@dataclass
class ExecutorConfig:
    """Who runs the stages, and how a rerun treats what an earlier run left in the out dir."""

    kind: Literal["local", "ray"] = "local"
    ray_address: str | None = None  # None: start a local Ray instance; "auto" or "ray://host:10001": join a cluster
    ship_code: bool = True  # joining a cluster: ship uvc_data and pipelines to the nodes (runtime_env py_modules)
    num_cpus: int | None = None  # CPUs of the local Ray instance (None: all); ignored when joining a cluster
    num_gpus: int | None = None  # GPUs of the local Ray instance (None: detected)
    retry_failed: bool = False  # rerun inputs that have a failure marker (default: skip them, as recorded)
    on_config_change: Literal["error", "restage", "keep"] = "error"  # out dir built with another fingerprint
    quiet: bool = False  # no progress bar and no summary on stderr
    ray_progress: bool = False  # show Ray Data's own per-operator progress bars
    # Ray: an item (input in the first stage, sample in a later one) whose worker died this many times is recorded
    # as failed ("crashed K times") instead of being retried again; Ray retries each task at most max_crashes + 1 times
    max_crashes: int = 2
    # Ray: seconds of work one item may take (an input's whole first stage, one sample in a later stage; time
    # blocked handing results on is not counted); past it the worker is stopped and the input recorded as failed
    # ("Timeout"). 0 = no limit. The local executor runs in this process and cannot stop a hung step: no limit there.
    timeout_s: float = 3600.0
    # one build per out dir: "auto" (flock on a local folder, an owner file where it has no flock, a lock object
    # created with a conditional put on S3); "off": no lock (a store without conditional puts; run one build only)
    lock: Literal["auto", "off"] = "auto"

    def validate(self) -> None:
        if self.num_cpus is not None and self.num_cpus < 1:
            raise ConfigError("executor.num_cpus", f"must be >= 1 or unset, got {self.num_cpus}")
        if self.num_gpus is not None and self.num_gpus < 0:
            raise ConfigError("executor.num_gpus", f"must be >= 0 or unset, got {self.num_gpus}")
        if self.max_crashes < 1:
            raise ConfigError("executor.max_crashes", f"must be >= 1, got {self.max_crashes}")
        if self.timeout_s < 0:
            raise ConfigError("executor.timeout_s", f"must be >= 0 (0 = no limit), got {self.timeout_s}")
        if self.lock not in ("auto", "off"):
            raise ConfigError("executor.lock", f"{self.lock!r}: use 'auto' or 'off'")
        if self.kind == "local" and self.ray_address is not None:
            raise ConfigError("executor.ray_address", "is only used with executor.kind='ray'; unset it or set kind")
