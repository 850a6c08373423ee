"""Any OpenAI-compatible chat-completions endpoint with image inputs (vLLM serving Qwen2.5-VL / Qwen3-VL / InternVL).

Frames go as base64 JPEG `image_url` parts, followed by the prompt; standard library HTTP only.
"""
from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request

import numpy as np

from uvc_data.captioners.base import CaptionContext, Captioner, sample_frames
from uvc_data.errors import UVCError


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
        body = json.dumps(self.request_body(frames, fps)).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(c.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        last: Exception | None = None
        for attempt in range(c.retries + 1):
            try:
                req = urllib.request.Request(url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=c.timeout_s) as resp:
                    payload = json.loads(resp.read().decode("utf-8"))
                return str(payload["choices"][0]["message"]["content"] or "")
            except urllib.error.HTTPError as exc:
                last = UVCError(f"captioner endpoint {url} answered HTTP {exc.code}: {exc.read()[:300]!r}")
                if exc.code < 500:
                    break
            except (urllib.error.URLError, TimeoutError, KeyError, IndexError, json.JSONDecodeError) as exc:
                last = UVCError(f"captioner endpoint {url}: {type(exc).__name__}: {exc}")
            time.sleep(min(2.0 ** attempt, 10.0))
        raise last or UVCError(f"captioner endpoint {url} failed")
