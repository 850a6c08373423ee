"""Any OpenAI-compatible chat-completions endpoint with image inputs (vLLM serving Qwen2.5-VL / Qwen3-VL / InternVL).

With `caption.endpoint_input="video"` (default) the sampled frames go as one H.264 MP4 `video_url` part (base64 data
URL) encoded at their real rate (frames shown / clip seconds), with vLLM's request fields asking its processor to take
them as they are: `mm_processor_kwargs` {"fps": that rate, "do_sample_frames": false} and `media_io_kwargs`
{"video": {"num_frames": all of them}}; servers that do not know those fields ignore them. With "images" each frame is
a base64 JPEG `image_url` part. The prompt follows. Standard library HTTP only. 429 and 5xx answers
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


def shown_fps(shown: int, clip_frames: int, clip_fps: float) -> float:
    """The real rate of `shown` frames picked evenly from a clip of `clip_frames` at `clip_fps`: shown / seconds."""
    seconds = clip_frames / clip_fps if clip_fps > 0 else float(clip_frames)
    return shown / seconds if seconds > 0 else float(shown)


def _mp4_data_url(frames: np.ndarray, fps: float) -> str:
    from uvc_data.video.codec import encode_video

    data = encode_video(np.ascontiguousarray(frames), fps, crf=18, preset="veryfast", threads=1)
    return "data:video/mp4;base64," + base64.b64encode(data).decode("ascii")


class OpenAICaptioner(Captioner):
    name = "openai"

    def request_body(self, frames: np.ndarray, fps: float) -> dict:
        c = self.cfg
        picked = sample_frames(frames, fps, c.sample_fps, c.max_frames, c.max_pixels)
        body: dict = {"model": c.model, "max_tokens": c.max_new_tokens, "temperature": 0.0}
        if c.endpoint_input == "video":
            rate = shown_fps(len(picked), frames.shape[0], fps)
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
