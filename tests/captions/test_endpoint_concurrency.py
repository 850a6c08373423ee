"""The OpenAI-compatible backend with several requests in flight: a local server on 127.0.0.1 checks every payload
(the clip as an MP4 `video_url` at its real rate, vLLM's fields asking for no re-sampling), answers the first
requests last, and counts how many it serves at once. Captions come back in the clips' order."""
from __future__ import annotations

import base64
import threading
import time

import numpy as np
import pytest

from uvc_data.captioners import CaptionConfig, CaptionContext, build_captioner
from uvc_data.captioners.base import CaptionRequest
from uvc_data.testing.http_server import JsonHandler, serve
from uvc_data.video.codec import decode_video


class SlowFirst(JsonHandler):
    """Caption = "Clip with N frames at R fps, marker M." (M: the first pixel of the clip, to tell clips apart);
    a clip whose marker is m waits (5 - m) × 0.25 s, so later clips are answered first."""

    lock = threading.Lock()
    in_flight = 0
    peak = 0
    order: list[int] = []
    problems: list[str] = []

    def do_POST(self):  # noqa: N802
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.peak = max(cls.peak, cls.in_flight)
        try:
            body = self.read_json()
            video = body["messages"][0]["content"][0]
            if video["type"] != "video_url" or not video["video_url"]["url"].startswith("data:video/mp4;base64,"):
                cls.problems.append(f"not an MP4 video_url part: {str(video)[:80]}")
            frames, fps = decode_video(base64.b64decode(video["video_url"]["url"].split(",", 1)[1]))
            if body["mm_processor_kwargs"] != {"fps": pytest.approx(fps, rel=1e-3), "do_sample_frames": False}:
                cls.problems.append(f"mm_processor_kwargs {body['mm_processor_kwargs']} vs the MP4's {fps} fps")
            if body["media_io_kwargs"] != {"video": {"num_frames": len(frames)}}:
                cls.problems.append(f"media_io_kwargs {body['media_io_kwargs']} vs {len(frames)} frames")
            marker = int(round(float(frames[0].mean()) / 40.0))
            time.sleep((5 - marker) * 0.25)
            with cls.lock:
                cls.order.append(marker)
            reply = f"Clip with {len(frames)} frames at {fps:.2f} fps, marker {marker}."
        finally:
            with cls.lock:
                cls.in_flight -= 1
        self.send_chat_reply(reply)


@pytest.fixture()
def server():
    SlowFirst.in_flight, SlowFirst.peak, SlowFirst.order, SlowFirst.problems = 0, 0, [], []
    with serve(SlowFirst) as url:
        yield url


def _clips() -> list[CaptionRequest]:
    """Five flat grey clips (marker m = grey level / 40), 17 + 8m frames at 16 fps: 1.06 s to 3.06 s."""
    return [CaptionRequest(np.full((17 + 8 * m, 32, 48, 3), 40 * m, np.uint8), 16.0, CaptionContext(f"{m}.mp4", 0, 1))
            for m in range(5)]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_requests_in_flight_answers_out_of_order_captions_in_order(server, concurrency):
    cfg = CaptionConfig(backend="openai", endpoint=server, model="qwen", sample_fps=2.0, max_frames=8,
                        concurrency=concurrency, batch_size=5)
    clips = _clips()
    t0 = time.perf_counter()
    texts = build_captioner(cfg).caption_batch(clips)
    wall = time.perf_counter() - t0
    assert SlowFirst.problems == []
    shown = [2, 3, 4, 5, 6]  # round(seconds × 2 fps) frames of each clip: 1.06 s → 2, ..., 3.06 s → 6
    assert texts == [f"Clip with {n} frames at {n / ((17 + 8 * m) / 16):.2f} fps, marker {m}."
                     for m, n in enumerate(shown)]
    assert SlowFirst.peak == concurrency
    if concurrency == 1:
        assert SlowFirst.order == [0, 1, 2, 3, 4] and wall > 3.7  # 1.25 + 1.0 + 0.75 + 0.5 + 0.25 s, one by one
    else:
        assert SlowFirst.order[0] != 0  # answered out of order: clips 0, 1, 2 in flight, clip 0 waits longest
