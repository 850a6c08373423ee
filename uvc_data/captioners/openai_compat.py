"""Any OpenAI-compatible chat-completions endpoint with image inputs (vLLM serving Qwen2.5-VL / Qwen3-VL / InternVL).

With `caption.endpoint_input="video"` (default) the sampled frames go as one H.264 MP4 `video_url` part (base64 data
URL) encoded at their real rate (frames shown / clip seconds), with vLLM's request fields asking its processor to take
them as they are: `mm_processor_kwargs` {"fps": that rate, "do_sample_frames": false} and `media_io_kwargs`
{"video": {"num_frames": all of them}}; servers that do not know those fields ignore them. With "images" each frame is
a base64 JPEG `image_url` part. The prompt follows. Standard library HTTP only. 429 and 5xx answers
are retried with backoff (uvc_data.http); an endpoint still failing then fails the input, not the clip.

`caption_batch` keeps up to `caption.concurrency` requests in flight (a thread pool per captioner, so per worker),
each retried on its own; the captions come back in the order of the clips, whatever order the server answers in.
"""
from __future__ import annotations

import base64
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from uvc_data.captioners.base import CaptionContext, Captioner, CaptionRequest
from uvc_data.captioners.frames import pick_frames, shown_fps  # noqa: F401  (shown_fps: re-exported)
from uvc_data.errors import InfrastructureError, UVCError
from uvc_data.http import RetryPolicy, post_json


def _jpeg_data_url(frame: np.ndarray) -> str:
    import cv2

    ok, data = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise UVCError("cannot JPEG-encode a frame for the captioner")
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii")


def _mp4_data_url(frames: np.ndarray, fps: float) -> str:
    from uvc_data.video.codec import encode_video

    data = encode_video(np.ascontiguousarray(frames), fps, crf=18, preset="veryfast", threads=1)
    return "data:video/mp4;base64," + base64.b64encode(data).decode("ascii")


class OpenAICaptioner(Captioner):
    name = "openai"

    def __init__(self, cfg):
        super().__init__(cfg)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.cfg.concurrency, thread_name_prefix="uvc-caption")
            return self._pool

    def caption_batch(self, requests: list[CaptionRequest]) -> list[str]:
        if len(requests) <= 1 or self.cfg.concurrency <= 1:
            return super().caption_batch(requests)
        futures = [self._executor().submit(self.caption, r.frames, r.fps, r.context) for r in requests]
        try:
            return [f.result() for f in futures]  # in input order; the first failure (after its retries) is raised
        except BaseException:
            for f in futures:
                f.cancel()  # the requests not yet started
            raise

    def request_body(self, frames: np.ndarray, fps: float) -> dict:
        c = self.cfg
        shown = pick_frames(frames, fps, c.sample_fps, c.max_frames, c.max_pixels)
        picked = shown.frames
        body: dict = {"model": c.model, "max_tokens": c.max_new_tokens, "temperature": 0.0}
        if c.endpoint_input == "video":
            rate = shown.rate
            content = [{"type": "video_url", "video_url": {"url": _mp4_data_url(picked, rate)}}]
            body["mm_processor_kwargs"] = {"fps": rate, "do_sample_frames": False}
            body["media_io_kwargs"] = {"video": {"num_frames": len(picked)}}
        else:
            content = [{"type": "image_url", "image_url": {"url": _jpeg_data_url(f)}} for f in picked]
        content.append({"type": "text", "text": c.prompt})
        body["messages"] = [{"role": "user", "content": content}]
        return body

    def caption(self, frames: np.ndarray, fps: float, context: CaptionContext) -> str:
        c = self.cfg
        url = c.endpoint.rstrip("/") + ("" if c.endpoint.rstrip("/").endswith("/chat/completions") else "/chat/completions")
        key = os.environ.get(c.api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        policy = RetryPolicy(retries=c.retries, backoff_s=c.retry_backoff_s)
        payload = post_json(url, self.request_body(frames, fps), headers, c.timeout_s, policy)
        try:
            return str(payload["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise InfrastructureError(f"endpoint {url} answered without choices[0].message.content: "
                                      f"{str(payload)[:300]}") from exc
