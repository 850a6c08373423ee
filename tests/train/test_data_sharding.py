"""Rank data split: each rank reads only its share of the shards' bytes, every sample of an epoch once across ranks,
equal counts per rank, and a saved position continues the same global order at another world size."""
from __future__ import annotations

import pytest

from uvc_data.shards import sample_to_wds, write_tar
from uvc_data.testing.samples import synthetic_sample
from vdot_train.data import SampleStream


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    d = tmp_path_factory.mktemp("shards")
    n = 0
    for s, count in enumerate((3, 4, 2)):  # 9 samples in 3 shards of unequal sizes
        write_tar(d / f"shard-{s:05d}.tar", [sample_to_wds(synthetic_sample(n + i), threads=1) for i in range(count)])
        n += count
    return [str(p) for p in sorted(d.glob("*.tar"))]


def _epoch(stream: SampleStream) -> list[str]:
    keys, epoch = [], stream.epoch
    while True:
        s = stream.next()
        if stream.epoch != epoch:
            return keys
        keys.append(s.key)


def test_each_rank_reads_only_its_share(shards, monkeypatch):
    import uvc_data.shard_index as si

    reads: list[str] = []
    real = si.read_sample
    monkeypatch.setattr(si, "read_sample", lambda path, entry: reads.append(entry.key) or real(path, entry))
    per_rank = []
    for rank in range(2):
        reads.clear()
        st = SampleStream(shards, seed=3, rank=rank, world=2)
        keys = [st.next().key for _ in range(4)]  # 9 samples, rounds of 2: 4 per rank, the 9th dropped
        assert reads == keys  # only this rank's samples were read
        per_rank.append(keys)
    assert not set(per_rank[0]) & set(per_rank[1]) and len(set(per_rank[0]) | set(per_rank[1])) == 8
    one = SampleStream(shards, seed=3)
    order = [one.next().key for _ in range(9)]
    assert [k for pair in zip(*per_rank) for k in pair] == order[:8]  # the same global order, dealt in rounds


def test_resume_at_another_world_size(shards):
    two = [SampleStream(shards, seed=5, rank=r, world=2) for r in range(2)]
    for st in two:
        for _ in range(2):
            st.next()
    state = two[0].state_dict()
    assert state == two[1].state_dict() == {"epoch": 0, "index": 2, "world": 2}
    one = SampleStream(shards, seed=5)
    one.load_state_dict(state)
    assert one.index == 4
    full = SampleStream(shards, seed=5)
    order = [full.next().key for _ in range(9)]
    assert one.next().key == order[4]  # continues after the 4 samples the two ranks consumed
