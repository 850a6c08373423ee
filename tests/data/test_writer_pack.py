"""Packing rules: shard boundaries by count and bytes, tar size accounting, staged-part integrity."""
from __future__ import annotations

import tarfile

import pytest

from uvc_data.errors import UVCError
from uvc_data.shards import write_tar
from uvc_data.writer.config import WriterConfig
from uvc_data.writer.commit import TAR_END, assign_shards, read_part
from uvc_data.writer.records import tar_bytes


def _plan(sizes, **cfg):
    recs = [{"key": f"k{i}", "tar_bytes": n} for i, n in enumerate(sizes)]
    return [(r["key"], shard, pos) for r, shard, pos in assign_shards(iter(recs), WriterConfig(**cfg))]


def test_count_limit():
    assert _plan([10] * 5, samples_per_shard=2) == [("k0", 0, 0), ("k1", 0, 1), ("k2", 1, 0), ("k3", 1, 1),
                                                     ("k4", 2, 0)]


def test_byte_limit_closes_before_exceeding_and_a_big_sample_goes_alone():
    limit = 10_000
    plan = _plan([4000, 4000, 3000, 20_000, 100], samples_per_shard=100, max_shard_bytes=limit)
    assert [shard for _, shard, _ in plan] == [0, 0, 1, 2, 3]


def test_tar_bytes_matches_tarfile(tmp_path):
    item = {"__key__": "abc", "mp4": b"x" * 1000, "txt": b"hi", "json": b"{}" * 300}
    write_tar(tmp_path / "one.tar", [item])
    payload = tar_bytes([1000, 2, 600])
    size = (tmp_path / "one.tar").stat().st_size
    assert payload + TAR_END <= size < payload + TAR_END + 10240  # tarfile pads to a 10240-byte record


def test_read_part_round_trip_and_foreign_member(tmp_path):
    item = {"__key__": "abc", "mp4": b"video", "gray.mp4": b"g", "txt": b"t"}
    write_tar(tmp_path / "p.tar", [item])
    assert read_part(tmp_path / "p.tar", "abc") == item
    with tarfile.open(tmp_path / "bad.tar", "w") as tar:
        tar.add(tmp_path / "p.tar", arcname="other.mp4")
    with pytest.raises(UVCError, match="delete"):
        read_part(tmp_path / "bad.tar", "abc")
