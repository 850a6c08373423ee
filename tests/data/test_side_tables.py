"""Side tables (uvc_data.side_tables): stage order, stale rows, clips they reject, the legacy captions table."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from uvc_data.errors import BadInputError
from uvc_data.side_tables import SideTables, find_side_tables, state_digest, table_bytes


def _row(key, stage, base, **kw):
    return {"key": key, "stage": stage, "stage_fingerprint": "f", "prompt": None, "tasks": ["t2v"], "rejected": {},
            "signals": {}, "base": base} | kw


def test_tables_apply_in_stage_order_and_stale_rows_give_no_verdicts(tmp_path):
    side = tmp_path / "side"
    side.mkdir()
    start = (["t2v", "gray"], {})
    after_caption = (["t2v"], {"gray": "llm_judge: no"})
    (side / "caption.parquet").write_bytes(table_bytes([
        _row("a", "caption", state_digest(*start), prompt="new a", tasks=after_caption[0], rejected=after_caption[1],
             signals={"caption_words": 2.0}),
        _row("b", "caption", state_digest(["t2v", "depth"], {}), prompt="new b", tasks=[], rejected={})]))
    (side / "filters.parquet").write_bytes(table_bytes([
        _row("a", "filters", state_digest(*after_caption), tasks=[], rejected={"t2v": "task_aware: static",
                                                                                 "gray": "llm_judge: no"})]))
    tables = SideTables.load(tmp_path)
    assert [t.stage for t in tables.tables] == ["caption", "filters"]
    # a: caption then filters apply; every task rejected → the clip is skipped
    assert tables.apply_meta({"key": "a", "prompt": "old", "tasks": start[0], "rejected": {}, "signals": {}}) is None
    # b: its row was computed from another state (an annotator rerun rewrote the shard since): prompt only
    meta = tables.apply_meta({"key": "b", "prompt": "old", "tasks": ["t2v", "gray"], "rejected": {}, "signals": {}})
    assert meta["prompt"] == "new b" and meta["tasks"] == ["t2v", "gray"]
    assert tables.rejected_keys() == {"a"}


def test_the_legacy_captions_table_is_read_as_prompts_only(tmp_path):
    pq.write_table(pa.table({"key": ["a", "b"], "prompt": ["new a", None]},
                            schema=pa.schema([("key", pa.string()), ("prompt", pa.string())],
                                             metadata={"schema": "uvc-captions/1"})), tmp_path / "captions.parquet")
    assert find_side_tables(tmp_path) == [f"{tmp_path}/captions.parquet"]
    tables = SideTables.load(tmp_path)
    a = tables.apply_meta({"key": "a", "prompt": "old", "tasks": ["t2v"], "rejected": {}, "signals": {}})
    b = tables.apply_meta({"key": "b", "prompt": "old", "tasks": ["t2v"], "rejected": {}, "signals": {}})
    assert (a["prompt"], b["prompt"]) == ("new a", "old") and tables.rejected_keys() == set()
    (tmp_path / "side").mkdir()
    (tmp_path / "side" / "caption.parquet").write_bytes(table_bytes([_row("a", "caption", "x", prompt="newer")]))
    assert find_side_tables(tmp_path) == [f"{tmp_path}/side/caption.parquet"]  # side/ wins


def test_bad_side_tables_are_named(tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(Exception):
        SideTables.load(tmp_path / "x.parquet")
    pq.write_table(pa.table({"key": ["a"]}), tmp_path / "y.parquet")
    with pytest.raises(BadInputError, match="not a side table"):
        SideTables.load(tmp_path / "y.parquet")
    with pytest.raises(BadInputError, match="does not exist"):
        SideTables.load(tmp_path / "missing.parquet")
