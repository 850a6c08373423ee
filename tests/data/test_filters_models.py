"""Model-backed filters through their real loading paths: the LLM judge (a tiny Qwen3 built from a config whose
greedy answer is fixed by its zeroed output layer, and an OpenAI-compatible endpoint served locally) and the aesthetic
filter (a tiny CLIP + a linear head in safetensors)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from tests.data.test_annotators_base import make_sample
from uvc_data.filters import build_filter, parse_yes_no


def test_parse_yes_no():
    assert parse_yes_no("Yes.") is True and parse_yes_no(" no, it is not") is False
    assert parse_yes_no("<think>yes maybe</think>\nNo") is False
    assert parse_yes_no("nonono") is None and parse_yes_no("") is None and parse_yes_no("<think>yes") is None


def _tiny_qwen3(folder, first_token: str) -> None:
    """A 1-layer Qwen3 whose lm_head is zero: all logits tie and greedy decoding emits token 0 = `first_token`."""
    import torch
    from transformers import Qwen2Tokenizer, Qwen3Config, Qwen3ForCausalLM
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = sorted(set(bytes_to_unicode().values()))
    words = [first_token, "no" if first_token == "yes" else "yes"]
    vocab = {w: i for i, w in enumerate(words + chars + ["<|endoftext|>"])}
    tok = Qwen2Tokenizer(vocab=vocab, merges=[], unk_token=None, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    cfg = Qwen3Config(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=1, head_dim=8, tie_word_embeddings=False,
                      eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"])
    model = Qwen3ForCausalLM(cfg)
    with torch.no_grad():
        model.lm_head.weight.zero_()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_llm_judge_transformers(tmp_path, answer):
    _tiny_qwen3(tmp_path, answer)
    f = build_filter("llm_judge", {"model_dir": str(tmp_path), "max_new_tokens": 1, "device": "cpu",
                                   "prompt": "Caption: {caption}. Good for {task}?"})
    frames = np.zeros((2, 8, 8, 3), np.uint8)
    s = f.process(make_sample(frames, ["gray", "pose"], prompt="a man walks a dog"))
    assert f.stats["asked"] == 2  # the template names the task: one question per task
    if answer == "yes":
        assert s.tasks == ["gray", "pose"]
    else:
        assert s.tasks == [] and s.rejected["gray"] == "llm_judge: judge said no"
    empty = f.process(make_sample(frames, ["gray"], prompt=" "))
    assert empty.rejected["gray"] == "llm_judge: empty caption"


def test_llm_judge_missing_model_rejects_with_reason():
    f = build_filter("llm_judge", {"model_dir": "/nowhere/qwen3"})
    for _ in range(2):
        s = f.process(make_sample(np.zeros((2, 8, 8, 3), np.uint8), ["gray"], prompt="a cat"))
        assert s.tasks == [] and s.rejected["clip"].startswith("llm_judge unavailable: MissingWeightsError")
        assert "llm_judge.model_dir" in s.rejected["clip"]
    assert f.stats["unavailable"] == 1 and f.stats["rejected"] == 2


class _Chat(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Chat.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        text = "No." if "static" in body["messages"][0]["content"] else "<think>hmm</think>Yes"
        out = json.dumps({"choices": [{"message": {"content": text}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def test_llm_judge_openai_endpoint(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Chat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("UVC_TEST_KEY", "k123")
        f = build_filter("llm_judge", {"backend": "openai", "base_url": f"http://127.0.0.1:{server.server_port}/v1",
                                       "model": "qwen3", "api_key_env": "UVC_TEST_KEY",
                                       "prompt": "Is '{caption}' a lively scene? yes/no"})
        frames = np.zeros((2, 8, 8, 3), np.uint8)
        good = f.process(make_sample(frames, ["gray", "depth"], prompt="kids playing football"))
        bad = f.process(make_sample(frames, ["gray", "depth"], prompt="a static shot of a wall"))
    finally:
        server.shutdown()
    assert good.tasks == ["gray", "depth"] and bad.tasks == []
    assert f.stats["asked"] == 2  # the template does not name the task: one question per clip
    assert _Chat.seen[0]["path"] == "/v1/chat/completions" and _Chat.seen[0]["auth"] == "Bearer k123"
    assert _Chat.seen[0]["model"] == "qwen3" and _Chat.seen[0]["temperature"] == 0


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    d = tmp_path_factory.mktemp("clip")
    cfg = CLIPConfig(text_config=dict(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                      num_attention_heads=2, max_position_embeddings=16),
                     vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                        num_attention_heads=2, image_size=32, patch_size=8),
                     projection_dim=8)
    CLIPModel(cfg).save_pretrained(d)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(d)
    return d


def _head(path, bias: float, dim: int = 8):
    import torch
    from safetensors.torch import save_file

    save_file({"weight": torch.zeros(1, dim), "bias": torch.tensor([bias])}, str(path))


def test_aesthetic_with_tiny_clip(tiny_clip, tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (5, 40, 48, 3), dtype=np.uint8)
    _head(tmp_path / "good.safetensors", 7.0)
    _head(tmp_path / "bad.safetensors", 2.0)
    good = build_filter("aesthetic", {"clip": str(tiny_clip), "head": str(tmp_path / "good.safetensors"),
                                      "device": "cpu"}).process(make_sample(frames, ["t2v"]))
    assert good.tasks == ["t2v"] and good.signals["aesthetic"] == pytest.approx(7.0)
    bad = build_filter("aesthetic", {"clip": str(tiny_clip), "head": str(tmp_path / "bad.safetensors"),
                                     "device": "cpu"}).process(make_sample(frames, ["t2v"]))
    assert bad.rejected["clip"] == "aesthetic: aesthetic score 2.00 < min_score 4.5"
    _head(tmp_path / "wrong.safetensors", 5.0, dim=768)
    wrong = build_filter("aesthetic", {"clip": str(tiny_clip), "head": str(tmp_path / "wrong.safetensors")})
    s = wrong.process(make_sample(frames, ["t2v"]))
    assert "aesthetic.head" in s.rejected["clip"] and "expected weight (1, 8)" in s.rejected["clip"]


def test_aesthetic_real_head_weights_change_the_score(tiny_clip, tmp_path):
    """A non-zero head: the score is the head applied to the L2-normalised CLIP image embedding."""
    import torch
    from safetensors.torch import save_file
    from transformers import CLIPImageProcessor, CLIPModel

    w = torch.linspace(-1, 1, 8)[None]
    save_file({"weight": w, "bias": torch.tensor([5.0])}, str(tmp_path / "h.safetensors"))
    frames = np.random.default_rng(1).integers(0, 255, (2, 32, 32, 3), dtype=np.uint8)
    s = build_filter("aesthetic", {"clip": str(tiny_clip), "head": str(tmp_path / "h.safetensors"), "frames": 2,
                                   "device": "cpu", "min_score": 0}).process(make_sample(frames, ["t2v"]))
    model, proc = CLIPModel.from_pretrained(tiny_clip), CLIPImageProcessor.from_pretrained(tiny_clip)
    with torch.no_grad():
        emb = model.get_image_features(**proc(images=list(frames), return_tensors="pt"))
        emb = getattr(emb, "pooler_output", emb)
        expected = float(((emb / emb.norm(dim=-1, keepdim=True)) @ w[0] + 5.0).mean())
    assert s.signals["aesthetic"] == pytest.approx(expected, abs=1e-5) and s.signals["aesthetic"] != 5.0
