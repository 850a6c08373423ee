import json

import pytest

from uvc_data.captioners import CaptionConfig, CaptionContext, CaptionStep, build_captioner
from uvc_data.captioners.base import clean_caption, sample_frames
from uvc_data.errors import ConfigError, MissingWeightsError
from uvc_data.sample import Provenance, Sample
from uvc_data.testing.http_server import JsonHandler, serve


def _sample(source, frames, start=0.0, end=2.0):
    prov = Provenance(str(source), "s", 0, 0, start, end, 16.0, 64, 48)
    return Sample("s-0000", frames, 16.0, prov, tasks=["depth", "gray"])


def test_sample_frames_rate_count_and_size(clip_frames):
    picked = sample_frames(clip_frames, fps=16.0, sample_fps=2.0, max_frames=8, max_pixels=24 * 32)
    assert picked.shape == (4, 24, 32, 3)  # 33 frames at 16 fps ≈ 2 s → 4 frames at 2 fps
    assert sample_frames(clip_frames, 16.0, 100.0, 5, 10**9).shape[0] == 5


def test_clean_caption():
    assert clean_caption("  The video shows a red car\n driving <|im_end|> ") == "A red car driving"


def test_sidecar_formats_and_overlap(tmp_path, clip_frames):
    (tmp_path / "a.txt").write_text("A dog runs on a beach.\n")
    (tmp_path / "b.captions.json").write_text(json.dumps([
        {"start_s": 0, "end_s": 3, "caption": "First shot: a city street."},
        {"start_s": 3, "end_s": 9, "caption": "Second shot: a harbour at dusk."}]))
    (tmp_path / "captions.jsonl").write_text(json.dumps({"file": "c.mp4", "caption": "A cyclist in the rain."}) + "\n")
    step = CaptionStep(CaptionConfig(backend="sidecar"))
    assert step.process(_sample(tmp_path / "a.mp4", clip_frames)).prompt == "A dog runs on a beach."
    assert step.process(_sample(tmp_path / "b.mp4", clip_frames, 4.0, 6.0)).prompt == "Second shot: a harbour at dusk."
    assert step.process(_sample(tmp_path / "c.mp4", clip_frames)).prompt == "A cyclist in the rain."
    missing = step.process(_sample(tmp_path / "d.mp4", clip_frames))
    assert missing.tasks == [] and "no sidecar caption for d.mp4" in missing.rejected["clip"]
    assert "d.txt" in missing.rejected["clip"]  # says where it looked


def test_short_caption_rejects_clip(tmp_path, clip_frames):
    (tmp_path / "a.txt").write_text("Dog.")
    s = CaptionStep(CaptionConfig(backend="sidecar")).process(_sample(tmp_path / "a.mp4", clip_frames))
    assert s.tasks == [] and "fragmentary" in s.rejected["clip"] and "caption.min_words" in s.rejected["clip"]


def test_bad_config_names_field():
    with pytest.raises(ConfigError, match="caption.model_path"):
        build_captioner(CaptionConfig(backend="transformers"))
    with pytest.raises(ConfigError, match="caption.endpoint"):
        build_captioner(CaptionConfig(backend="openai"))


class _Handler(JsonHandler):
    requests: list = []
    fail_first = 0

    def do_POST(self):  # noqa: N802
        body = self.read_json()
        type(self).requests.append((self.path, dict(self.headers), body))
        if type(self).fail_first > 0:
            type(self).fail_first -= 1
            self.send_response(503)
            self.end_headers()
            return
        n_images = sum(1 for part in body["messages"][0]["content"] if part["type"] == "image_url")
        self.send_chat_reply(f"The video shows {n_images} frames of a busy street.")


def test_openai_compatible_endpoint_on_a_local_server(clip_frames, monkeypatch):
    _Handler.requests, _Handler.fail_first = [], 1
    with serve(_Handler) as url:
        monkeypatch.setenv("MY_KEY", "secret")
        cfg = CaptionConfig(backend="openai", endpoint=url, model="qwen", api_key_env="MY_KEY", max_frames=3,
                            retries=2, retry_backoff_s=0.01, endpoint_input="images")
        cap = build_captioner(cfg)
        text = cap.caption(clip_frames, 16.0, CaptionContext("x.mp4", 0, 2))
    assert text == "The video shows 3 frames of a busy street."
    assert len(_Handler.requests) == 2  # one 503, retried
    path, headers, body = _Handler.requests[-1]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer secret"
    assert body["model"] == "qwen" and body["messages"][0]["content"][-1] == {"type": "text", "text": cfg.prompt}
    assert body["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/jpeg;base64,")


def test_transformers_captioner_loads_a_local_model_and_generates(tiny_vlm_dir, clip_frames):
    cfg = CaptionConfig(backend="transformers", model_path=str(tiny_vlm_dir), max_new_tokens=6, max_frames=3, min_words=1)
    cap = build_captioner(cfg)
    a = cap.caption(clip_frames, 16.0, CaptionContext("x.mp4", 0, 2))
    b = cap.caption(clip_frames, 16.0, CaptionContext("x.mp4", 0, 2))
    assert isinstance(a, str) and a == b and len(a) > 0  # greedy decoding is deterministic
    assert cap.video_mode is False  # LLaVA's processor has no video processor: frames go as images


def test_transformers_captioner_missing_weights_says_where_and_how(tmp_path, clip_frames):
    cap = build_captioner(CaptionConfig(backend="transformers", model_path=str(tmp_path / "nope")))
    with pytest.raises(MissingWeightsError, match="caption.model_path") as err:
        cap.setup()
    assert str(tmp_path / "nope") in str(err.value) and "Qwen" in str(err.value)


def test_openai_endpoint_gets_the_clip_as_a_video_at_its_real_rate(clip_frames):
    from uvc_data.video.codec import decode_video

    _Handler.requests, _Handler.fail_first = [], 0
    with serve(_Handler) as url:
        cfg = CaptionConfig(backend="openai", endpoint=url, model="qwen", max_frames=8, sample_fps=2.0)
        build_captioner(cfg).caption(clip_frames, 16.0, CaptionContext("x.mp4", 0, 2))
    _, _, body = _Handler.requests[-1]
    part = body["messages"][0]["content"][0]
    assert part["type"] == "video_url" and part["video_url"]["url"].startswith("data:video/mp4;base64,")
    import base64

    frames, fps = decode_video(base64.b64decode(part["video_url"]["url"].split(",", 1)[1]))
    # 33 frames at 16 fps = 2.06 s; 2 fps → 4 frames shown, evenly over the clip: their real rate is 4 / 2.06 s
    assert frames.shape == (4, 48, 64, 3) and fps == pytest.approx(4 / (33 / 16), rel=1e-3)
    assert body["mm_processor_kwargs"] == {"fps": pytest.approx(4 / (33 / 16)), "do_sample_frames": False}
    assert body["media_io_kwargs"] == {"video": {"num_frames": 4}}
