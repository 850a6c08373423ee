"""Any model from the command line: `--model pkg.module:Class`, installed plugins (entry-point group
`uvc_bench.models`), and the documented plugin for a non-Wan diffusers pipeline (CogVideoX, examples/bench_plugins)
run on a tiny CogVideoX built from its config."""
import json
import sys
from pathlib import Path

import pytest

from uvc_data.errors import ConfigError, UnknownNameError
from uvc_bench.models.registry import ENTRY_POINT_GROUP, build_model, model_class, model_names

PLUGINS = Path(__file__).resolve().parents[2] / "examples" / "bench_plugins"


@pytest.fixture
def plugin_path(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    return PLUGINS


def _save_tiny_cogvideox(folder: Path) -> Path:
    """Real diffusers / transformers classes at toy sizes (as diffusers' own CogVideoX pipeline tests), saved."""
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel
    from transformers import T5Config, T5EncoderModel, T5Tokenizer

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=8, in_channels=4, out_channels=4, time_embed_dim=2, text_embed_dim=32,
        num_layers=1, sample_width=4, sample_height=4, sample_frames=9, patch_size=2, temporal_compression_ratio=4,
        max_text_seq_length=226)  # the pipeline pads prompts to 226 tokens
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4)
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(c, -float(i)) for i, c in enumerate("▁abcdefghijklmnopqrstuvwxyz0123456789.,")]
    tokenizer = T5Tokenizer(vocab=vocab, extra_ids=0)
    text_encoder = T5EncoderModel(T5Config(vocab_size=len(vocab), d_model=32, d_kv=8, d_ff=37, num_layers=1,
                                           num_heads=4, relative_attention_num_buckets=8))
    pipe = CogVideoXPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                             scheduler=CogVideoXDDIMScheduler())
    pipe.save_pretrained(folder)
    return folder


def test_import_path_and_errors(plugin_path):
    cls = model_class("uvc_cogvideox:CogVideoXBenchModel")
    assert cls.name == "cogvideox" and cls.Config.__name__ == "CogVideoXBenchConfig"
    with pytest.raises(ConfigError, match="cannot import"):
        model_class("no_such_module_xyz:Model")
    with pytest.raises(ConfigError, match="has no 'Nope'"):
        model_class("uvc_cogvideox:Nope")
    with pytest.raises(ConfigError, match="not a subclass"):
        model_class("uvc_cogvideox:CogVideoXBenchConfig")
    with pytest.raises(UnknownNameError, match="baseline"):
        model_class("baselin")


def test_installed_plugin_by_entry_point(plugin_path, tmp_path, monkeypatch):
    dist = tmp_path / "uvc_cogvideox-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: uvc-cogvideox\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\ncogvideox = uvc_cogvideox:CogVideoXBenchModel\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "cogvideox" in model_names()
    assert model_class("cogvideox").__name__ == "CogVideoXBenchModel"


def test_cogvideox_plugin_generates_and_scores_a_suite(plugin_path, tmp_path):
    from tests.fixtures.bench_suite import build_tiny_suite
    from uvc_cli.main import main

    pipe = _save_tiny_cogvideox(tmp_path / "cogvideox")
    suite = build_tiny_suite(tmp_path, n_samples=1, per_task=1, tasks=["depth", "r2v"])
    out = tmp_path / "out"
    rc = main(["bench", "run", "--suite", str(suite), "--out", str(out), "--model", "uvc_cogvideox:CogVideoXBenchModel",
               "--set", f"path={pipe}", "--set", "steps=2", "--backend", "offline",
               "--dimensions", "motion_smoothness,dynamic_degree", "--no-progress"])
    assert rc == 0
    data = json.loads((out / "results.json").read_text())
    assert data["model"]["name"] == "cogvideox" and data["model"]["steps"] == 2
    assert all(c["status"] == "ok" for c in data["cases"]) and len(data["cases"]) == 2
    assert all(c["video"]["num_frames"] == 9 and c["video"]["height"] == 32 for c in data["cases"])
