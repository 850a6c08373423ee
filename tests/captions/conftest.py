import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory):
    """A tiny LLaVA (CLIP vision + Llama text) with its processor and a tokenizer built in code, saved to disk:
    loaded back through the captioner's real AutoProcessor / AutoModelForImageTextToText path."""
    from tokenizers import Tokenizer, models
    from transformers import LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor, PreTrainedTokenizerFast
    from transformers.models.clip import CLIPImageProcessorPil

    words = ["<unk>"] + [chr(c) for c in range(32, 127)]
    tok = Tokenizer(models.BPE(vocab={w: i for i, w in enumerate(words)}, merges=[], unk_token="<unk>"))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<unk>", pad_token="<unk>")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<image>"]})
    template = ("{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}{% if c['type'] == 'image' %}<image>"
                "{% else %}{{ c['text'] }}{% endif %}{% endfor %}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}")
    processor = LlavaProcessor(image_processor=CLIPImageProcessorPil(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}),
                               tokenizer=tokenizer, chat_template=template, patch_size=14,
                               vision_feature_select_strategy="default", num_additional_image_tokens=1)
    cfg = LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                           num_attention_heads=2, image_size=28, patch_size=14),
        text_config=dict(model_type="llama", vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"), vision_feature_layer=-1)
    import torch

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny_vlm")
    LlavaForConditionalGeneration(cfg).save_pretrained(path)
    processor.save_pretrained(path)
    return path


@pytest.fixture
def clip_frames():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (33, 48, 64, 3), dtype=np.uint8)
