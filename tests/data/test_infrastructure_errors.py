"""Infrastructure failures fail the input (so --retry-failed redoes it); content problems reject the clip."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from tests.data.test_annotators_base import make_sample
from uvc_data.annotators.base import Annotator, AnnotatorConfig
from uvc_data.errors import (BadInputError, InfrastructureError, MissingDependencyError, MissingWeightsError,
                             is_infrastructure)
from uvc_data.filters.base import Filter


def test_classification():
    import torch

    assert is_infrastructure(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_infrastructure(RuntimeError("CUDA error: an illegal memory access was encountered"))
    assert is_infrastructure(InfrastructureError("endpoint down")) and is_infrastructure(TimeoutError())
    assert is_infrastructure(ConnectionResetError()) and is_infrastructure(MemoryError())
    for content in (BadInputError("odd clip"), ValueError("bad shape"), RuntimeError("shape mismatch"),
                    MissingWeightsError("depth", [], "set depth.weights"), MissingDependencyError("pip install x")):
        assert not is_infrastructure(content), content


@dataclass
class _Cfg(AnnotatorConfig):
    backend: str = "test"
    fail: str = ""  # "oom" in annotate, "load-oom" in load, "content" in annotate


class _Gray(Annotator):
    """A gray annotator whose model can fail the way a GPU model does."""

    name = "gray"
    condition = "gray"

    def load(self) -> Any:
        if self.config.fail == "load-oom":
            import torch

            raise torch.OutOfMemoryError("CUDA out of memory while loading")
        return lambda f: np.repeat(f.mean(-1, keepdims=True).astype(np.uint8), 3, -1)

    def annotate(self, sample):
        import torch

        if self.config.fail == "oom":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        if self.config.fail == "content":
            raise ValueError("no usable pixels")
        return self.model(sample.frames)


def _frames():
    return np.random.default_rng(0).integers(0, 255, (5, 16, 16, 3), dtype=np.uint8)


def test_annotator_oom_is_raised_content_error_rejects():
    with pytest.raises(Exception, match="CUDA out of memory"):
        _Gray(_Cfg(fail="oom")).process(make_sample(_frames(), ["gray", "t2v"]))
    s = _Gray(_Cfg(fail="content")).process(make_sample(_frames(), ["gray", "t2v"]))
    assert s.tasks == ["t2v"] and s.rejected["gray"].startswith("error: ValueError: no usable pixels")


def test_a_load_that_runs_out_of_memory_fails_the_input_and_is_tried_again():
    a = _Gray(_Cfg(fail="load-oom"))
    for _ in range(2):  # not cached as "unavailable": the next input tries to load again
        with pytest.raises(Exception, match="while loading"):
            a.process(make_sample(_frames(), ["gray"]))
    assert a.unavailable is None


class _Judge(Filter):
    name = "judge"

    def check(self, sample):
        raise InfrastructureError("endpoint http://x/v1 still failing after 5 attempts")


def test_filter_infrastructure_error_is_raised():
    with pytest.raises(InfrastructureError):
        _Judge(None).process(make_sample(_frames(), ["t2v"]))
