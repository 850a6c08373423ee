"""Any OpenAI-compatible chat-completions endpoint with image inputs (vLLM serving Qwen2.5-VL / Qwen3-VL / InternVL).

Frames go as base64 JPEG `image_url` parts, followed by the prompt; standard library HTTP only. 429 and 5xx answers
are retried with backoff (uvc_data.http); an endpoint still failing then fails the input, not the clip.
"""
from __future__ import annotations

import base64
import os

import numpy as np

from uvc_data.captioners.base import CaptionContext, Captioner, sample_frames
from uvc_data.errors import InfrastructureError, UVCError
from uvc_data.http import RetryPolicy, post_json


def _jpeg_data_url(frame: np.ndarray) -> str:
    import cv2

    ok, data = cv2.imencode(".jpg", frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise UVCError("cannot JPEG-encode a frame for the captioner")
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii")


class OpenAICaptioner(Captioner):
    name = "openai"

    def request_body(self, frames: np.ndarray, fps: float) -> dict:
        c = self.cfg
        picked = sample_frames(frames, fps, c.sample_fps, c.max_frames, c.max_pixels)
        content = [{"type": "image_url", "image_url": {"url": _jpeg_data_url(f)}} for f in picked]
        content.append({"type": "text", "text": c.prompt})
        return {"model": c.model, "messages": [{"role": "user", "content": content}],
                "max_tokens": c.max_new_tokens, "temperature": 0.0}

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
