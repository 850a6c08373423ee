"""Fixtures for the leaderboard tests: results files built through uvc_bench.results, and a headless Chromium."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.leaderboard.factory import make_results, write_results

HOSTILE = "<script>alert(1)</script> \"q\" 'a' </script><!-- & x=1"
TASKS = {"depth": 0.02, "pose": 0.03, "flow": 0.025, "scribble": 0.0, "gray": -0.02, "outpainting": 0.01,
         "extension": 0.04, "r2v": -0.01}
FIDELITY = {"outpainting": {"kept_psnr": 31.2, "kept_ssim": 0.91}, "extension": {"kept_psnr": 28.0, "kept_ssim": 0.88},
            "flow": {"flow_epe": 1.8}, "r2v": {"ref_clip_similarity": 0.82}}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real headless Chromium (skipped when it is not installed)")


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    """Four valid runs (two of one model at 4 and 8 steps, a 100-step teacher, a hostile-named offline run),
    one invalid file and one non-results JSON file."""
    d = tmp_path / "results"
    write_results(d / "vdot4" / "results.json", make_results("VDOT", 4, 14.0, TASKS, fidelity=FIDELITY))
    write_results(d / "vdot8" / "results.json",
                  make_results("VDOT", 8, 27.0, {k: v + 0.005 for k, v in TASKS.items()}, fidelity=FIDELITY))
    write_results(d / "vace" / "results.json",
                  make_results("VACE-Wan-14B", 100, 520.0, {k: v - 0.003 for k, v in TASKS.items()},
                               fidelity=FIDELITY))
    write_results(d / "hostile" / "results.json",
                  make_results(HOSTILE, 2, 3.0, {"depth": -0.05, "pose": -0.04},
                               backends={"dynamic_degree": "dis_flow_offline"}, settings={"note": HOSTILE}))
    (d / "broken.json").write_text('{"schema_version": "uvcbench-results/1", "model": 3}')
    (d / "vbench_eval_results.json").write_text('{"subject_consistency": [0.9, []]}')
    return d


def chromium_paths() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None
