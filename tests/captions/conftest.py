import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory):
    """A tiny LLaVA (CLIP vision + Llama text) with its processor and a tokenizer built in code, saved to disk:
    loaded back through the captioner's real AutoProcessor / AutoModelForImageTextToText path."""
    from tests.captions.tiny_models import save_tiny_llava

    return save_tiny_llava(tmp_path_factory.mktemp("tiny_vlm"))


@pytest.fixture
def clip_frames():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (33, 48, 64, 3), dtype=np.uint8)


@pytest.fixture(scope="session")
def sharp_vlm_dir(tmp_path_factory):
    """The tiny LLaVA with its matrices ×20 (tiny_models.save_tiny_llava): its greedy caption depends on the frames,
    so comparing captions can fail."""
    from tests.captions.tiny_models import save_tiny_llava

    return save_tiny_llava(tmp_path_factory.mktemp("sharp_vlm"), scale=20.0)


QWEN_SPECIALS = ["<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="session")
def tiny_qwen3vl_dir(tmp_path_factory):
    """A tiny Qwen3-VL (1 vision block, 1 text layer, head_dim 64) with its real Qwen3VLProcessor (video processor
    included) and a byte-level tokenizer built in code, saved to disk. Qwen-VL video processors need torchvision,
    which has no CPU build on PyPI: skipped where it does not import (the GPU machines have it)."""
    pytest.importorskip("torchvision", reason="Qwen3-VL's video processor needs torchvision (no CPU wheel on PyPI)")
    import torch
    from transformers import Qwen2Tokenizer, Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor

    vocab = {w: i for i, w in enumerate(sorted(set(bytes_to_unicode().values())) + ["<|endoftext|>"])}
    tok = Qwen2Tokenizer(vocab=vocab, merges=[], unk_token=None, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tok.add_special_tokens({"additional_special_tokens": QWEN_SPECIALS})
    ids = {s: tok.convert_tokens_to_ids(s) for s in QWEN_SPECIALS}
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessorPil(patch_size=8, temporal_patch_size=2, merge_size=2),
        video_processor=Qwen3VLVideoProcessor(patch_size=8, temporal_patch_size=2, merge_size=2,
                                              size={"shortest_edge": 16 * 16, "longest_edge": 32 * 32 * 16}),
        tokenizer=tok, chat_template=QWEN_TEMPLATE)
    cfg = Qwen3VLConfig(
        vision_config=dict(depth=1, hidden_size=64, intermediate_size=128, num_heads=1, patch_size=8,
                           temporal_patch_size=2, spatial_merge_size=2, out_hidden_size=128,
                           num_position_embeddings=64, deepstack_visual_indexes=[0]),
        text_config=dict(vocab_size=len(tok), hidden_size=128, intermediate_size=256, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=64,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [8, 12, 12],
                                          "mrope_interleaved": True},
                         eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"]),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    torch.manual_seed(0)
    model = Qwen3VLForConditionalGeneration(cfg)
    with torch.no_grad():  # sharpened, as sharp_vlm_dir: the greedy caption depends on the clip
        for name, p in model.named_parameters():
            if p.ndim == 2 and "embed" not in name:
                p.mul_(20.0)
    path = tmp_path_factory.mktemp("tiny_qwen3vl")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path
