"""The collector is order-independent: envelopes arriving in any order (as from Ray workers) give the same markers."""
from __future__ import annotations

import json
import random

from tests.pipelines._steps import annotate_stage, source_stage, split_stage, write_spec
from uvc_data.writer import StageSpec, WriterConfig, discover_inputs
from uvc_data.writer.executors import OutSpec
from uvc_data.writer.executors.local import run_local
from uvc_data.writer.layout import OutDir
from uvc_data.writer.staging import Collector


def test_markers_do_not_depend_on_arrival_order(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_spec(folder / "a.json", clips=4, frames=4, seed=1)
    write_spec(folder / "b.json", clips=3, fail_at=2)  # first-stage failure after 2 samples
    write_spec(folder / "c.json", clips=3, prompt="explode")  # every sample fails in a later stage
    inputs = discover_inputs([str(folder)], extensions=(".json",))
    stages = [StageSpec("decode", source_stage), StageSpec("split", split_stage), StageSpec("annotate", annotate_stage)]
    envelopes = []
    staged = tmp_path / "staged"
    run_local(inputs, [], stages, OutSpec(str(staged), str(staged / "_staging")), WriterConfig(), envelopes.append)
    assert {e.kind for e in envelopes} == {"end", "staged", "dropped", "failed"}

    def markers(order):
        out = OutDir(tmp_path / f"run{len(list(tmp_path.iterdir()))}")
        out.prepare()
        collector = Collector(out, inputs)
        events = [collector.feed(envelopes[i]) for i in order]
        assert sorted(e for e in events if e) == ["done", "failed", "failed"]
        assert not collector.pending
        found = {}
        for p in sorted([*out.staging.root.rglob("*.json"), *(tmp_path / out.root / "inputs").glob("*.json")]):
            marker = json.loads(p.read_text())
            marker.pop("seconds")  # float sums may differ in the last bit with the order of addition
            found[p.relative_to(out.root).as_posix()] = marker
        return found

    reference = markers(range(len(envelopes)))
    assert len(reference) == 3
    rng = random.Random(0)
    for _ in range(5):
        order = list(range(len(envelopes)))
        rng.shuffle(order)
        got = markers(order)
        assert got == reference
