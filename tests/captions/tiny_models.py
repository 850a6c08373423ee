"""Tiny vision-language models built from configs (no downloads) for the caption tests and benchmarks/bench_captions.py."""
from __future__ import annotations

from pathlib import Path


def save_tiny_llava(path: Path, hidden: int = 16, layers: int = 1, image: int = 28, scale: float = 1.0,
                    seed: int = 0) -> Path:
    """A LLaVA (CLIP vision + Llama text, `hidden` wide, `layers` deep) with its processor and a character-level
    tokenizer built in code, saved to `path`. `scale` multiplies every matrix but the embeddings: at the default
    init (std 0.02) a tiny model answers the same whatever it is shown; ×20 makes its greedy answer depend on it."""
    import torch
    from tokenizers import Tokenizer, models
    from transformers import LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor, PreTrainedTokenizerFast
    from transformers.models.clip import CLIPImageProcessorPil

    words = ["<unk>"] + [chr(c) for c in range(32, 127)]
    tok = Tokenizer(models.BPE(vocab={w: i for i, w in enumerate(words)}, merges=[], unk_token="<unk>"))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<unk>", pad_token="<unk>")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<image>"]})
    template = ("{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}{% if c['type'] == 'image' %}<image>"
                "{% else %}{{ c['text'] }}{% endif %}{% endfor %}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}")
    processor = LlavaProcessor(image_processor=CLIPImageProcessorPil(size={"shortest_edge": image},
                                                                     crop_size={"height": image, "width": image}),
                               tokenizer=tokenizer, chat_template=template, patch_size=14,
                               vision_feature_select_strategy="default", num_additional_image_tokens=1)
    heads = max(2, hidden // 32)
    cfg = LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", hidden_size=hidden, intermediate_size=2 * hidden,
                           num_hidden_layers=layers, num_attention_heads=heads, image_size=image, patch_size=14),
        text_config=dict(model_type="llama", vocab_size=len(tokenizer), hidden_size=hidden,
                         intermediate_size=2 * hidden, num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=1),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"), vision_feature_layer=-1)
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(cfg)
    if scale != 1.0:
        with torch.no_grad():
            for name, p in model.named_parameters():
                if p.ndim == 2 and "embed" not in name:
                    p.mul_(scale)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path
