"""The sharded trainer at the real Wan 1.3B width (dim 1536, 12 heads × 128, ffn 8960; 2 main + 1 VACE block) under
torchrun + gloo at world size 2 against one process: a full VDOT iteration pair (OTD and GAN), DCP save and resume,
per-rank peak RSS and the planner's prediction (benchmarks/bench_sharded_train.py; figures in docs/benchmarks.md).
Slow: 3 minutes on a quiet 2-core machine (10 when shared)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_sharded_train", ROOT / "benchmarks" / "bench_sharded_train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_real_width_sharded_iteration(tmp_path):
    bench = _bench()
    out = bench.measure(bench.parser().parse_args(["--work", str(tmp_path), "--min-params", "4500000"]))
    single, ranks = out["single"], out["sharded"]
    assert single["params_per_network"] > 150e6  # real-width blocks
    for r in ranks:
        assert r["resumed_step"] == 2
        assert r["local_params_generator"] <= 0.55 * single["params_per_network"]
        assert r["rss_build"] <= 0.6 * single["rss_build"]  # no rank ever holds a whole network while building
        # the step: measured 0.58 (0.65 while the critic's GAN step ran two forwards into one backward, which held
        # the whole unsharded gradient; 0.80 with one unit per block)
        assert r["rss_step"] <= 0.6 * single["rss_step"]
        assert r["losses"][0]["c/loss"] == r["losses"][0]["c/loss"]  # finite
    for key, meas in (("plan_single", single), ("plan_sharded", ranks[0])):
        measured = meas["rss_step"] - meas["rss_baseline"]
        assert abs(out[key]["peak"] / measured - 1) <= 0.15, (key, out[key]["peak"], measured)
