"""Rank data split: each rank reads only its share of the shards' bytes, every sample of an epoch once across ranks,
equal counts per rank, and a saved position continues the same global order at another world size — for both epoch
orders (a permutation of all samples, or shards shuffled with their samples in file order)."""
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


@pytest.mark.parametrize("shuffle", ["samples", "shards"])
def test_each_rank_reads_only_its_share(shards, monkeypatch, shuffle):
    import uvc_data.shard_index as si

    reads: list[str] = []
    real = si.read_sample
    monkeypatch.setattr(si, "read_sample", lambda path, entry: reads.append(entry.key) or real(path, entry))
    per_rank = []
    for rank in range(2):
        reads.clear()
        st = SampleStream(shards, seed=3, rank=rank, world=2, shuffle=shuffle)
        keys = [st.next().key for _ in range(4)]  # 9 samples, rounds of 2: 4 per rank, the 9th dropped
        assert reads == keys  # only this rank's samples were read
        per_rank.append(keys)
    assert not set(per_rank[0]) & set(per_rank[1]) and len(set(per_rank[0]) | set(per_rank[1])) == 8
    one = SampleStream(shards, seed=3, shuffle=shuffle)
    order = [one.next().key for _ in range(9)]
    assert [k for pair in zip(*per_rank) for k in pair] == order[:8]  # the same global order, dealt in rounds


@pytest.mark.parametrize("shuffle", ["samples", "shards"])
def test_resume_at_another_world_size(shards, shuffle):
    two = [SampleStream(shards, seed=5, rank=r, world=2, shuffle=shuffle) for r in range(2)]
    for st in two:
        for _ in range(2):
            st.next()
    state = two[0].state_dict()
    assert state == two[1].state_dict() == {"epoch": 0, "index": 2, "world": 2}
    one = SampleStream(shards, seed=5, shuffle=shuffle)
    one.load_state_dict(state)
    assert one.index == 4
    full = SampleStream(shards, seed=5, shuffle=shuffle)
    order = [full.next().key for _ in range(9)]
    assert one.next().key == order[4]  # continues after the 4 samples the two ranks consumed
    three = SampleStream(shards, seed=5, world=3, rank=2, shuffle=shuffle)  # and at world 3: 4 // 3 = 1 round seen
    three.load_state_dict(state)
    assert three.index == 1 and three.next().key == order[3 + 2]


def _shard_of(shards) -> dict[str, int]:
    from uvc_data.shard_index import index_shard

    return {e.key: i for i, path in enumerate(shards) for e in index_shard(path)}


def test_sample_shuffle_mixes_shards_and_differs_per_epoch(shards):
    """The default epoch order interleaves samples of different shards (a shard-by-shard order cannot), visits each
    sample once, and changes from epoch to epoch; the seed decides it."""
    owner = _shard_of(shards)
    st = SampleStream(shards, seed=11)
    epochs = [[st.next().key for _ in range(len(owner))] for _ in range(3)]  # world 1: an epoch is every sample
    runs = lambda keys: sum(owner[a] != owner[b] for a, b in zip(keys, keys[1:]))  # noqa: E731
    for keys in epochs:
        assert sorted(keys) == sorted(owner)
        assert runs(keys) > len(shards) - 1  # more shard changes than a shard-by-shard order has
    assert epochs[0] != epochs[1] != epochs[2]
    again = SampleStream(shards, seed=11)
    assert [again.next().key for _ in range(len(owner))] == epochs[0]
    by_shard = SampleStream(shards, seed=11, shuffle="shards")
    assert runs(_epoch(by_shard)) == len(shards) - 1


def test_bad_shuffle_names_the_field(shards):
    from uvc_data.errors import ConfigError

    with pytest.raises(ConfigError, match="data.shuffle"):
        SampleStream(shards, shuffle="files")


@pytest.mark.parametrize("shuffle", ["samples", "shards"])
def test_a_recaption_side_table_replaces_the_prompts(shards, tmp_path, shuffle):
    """data.captions_file: the prompts of `uvc data recaption`'s captions.parquet replace the shards' own for the keys
    it captioned; a rejected new caption (prompt null) keeps the shard's caption."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from uvc_data.shards import read_captions
    from vdot_train.data import TrainData
    from vdot_train.trainer.config import DataConfig

    first = SampleStream(shards, seed=0, shuffle=shuffle)
    before = {s.key: s.prompt for s in (first.next() for _ in range(9))}
    keys = sorted(before)
    table = tmp_path / "captions.parquet"
    pq.write_table(pa.table({"key": keys[:3], "prompt": ["a new caption", "another one", None]}), table)
    st = SampleStream(shards, seed=0, shuffle=shuffle, captions=read_captions(table))
    after = {s.key: s.prompt for s in (st.next() for _ in range(9))}
    assert after[keys[0]] == "a new caption" and after[keys[1]] == "another one"
    assert after[keys[2]] == before[keys[2]] and all(after[k] == before[k] for k in keys[3:])
    # and through the trainer's config
    data = TrainData(None, DataConfig(shards=shards, captions_file=str(table), shuffle=shuffle, prefetch=0))
    got = {s.key: s.prompt for s in (data.samples.next() for _ in range(9))}
    assert got == after


def test_side_tables_replace_prompts_and_verdicts_and_leave_rejected_clips_out(shards, tmp_path):
    """data.side_tables: a `uvc data rerun` table's prompt and tasks apply over the shard's json; a clip it rejects is
    never trained on (left out when the shards are indexed, so every rank still gets the same count)."""
    from uvc_data.side_tables import state_digest, table_bytes
    from vdot_train.data import TrainData
    from vdot_train.trainer.config import DataConfig

    first = SampleStream(shards, seed=0)
    before = {s.key: s for s in (first.next() for _ in range(9))}
    keys = sorted(before)
    s0, s1 = before[keys[0]], before[keys[1]]
    rows = [{"key": s0.key, "stage": "caption", "stage_fingerprint": "x", "prompt": "a rerun caption",
             "tasks": ["t2v"], "rejected": {"gray": "llm_judge: no"}, "signals": {"caption_words": 3.0},
             "base": state_digest(s0.tasks, s0.rejected)},
            {"key": s1.key, "stage": "caption", "stage_fingerprint": "x", "prompt": None, "tasks": [],
             "rejected": {"clip": "caption empty"}, "signals": {}, "base": state_digest(s1.tasks, s1.rejected)}]
    side = tmp_path / "out" / "side"
    side.mkdir(parents=True)
    (side / "caption.parquet").write_bytes(table_bytes(rows))
    data = TrainData(None, DataConfig(shards=shards, side_tables=[str(tmp_path / "out")], prefetch=0))
    got = {s.key: s for s in (data.samples.next() for _ in range(8))}
    assert set(got) == set(keys) - {s1.key}
    assert got[s0.key].prompt == "a rerun caption" and got[s0.key].tasks == ["t2v"]
    assert got[s0.key].signals["caption_words"] == 3.0
    assert all(got[k].prompt == before[k].prompt for k in keys[2:])
    assert data.samples.epoch == 0 and data.samples.next().key in got and data.samples.epoch == 1
