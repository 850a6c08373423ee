"""LLM judge over the caption (data.md: task-aware filtering with Qwen3): asks, per task, whether the clip described
by its caption suits the task, and parses a yes/no answer.

Backends: "transformers" (AutoModelForCausalLM + AutoTokenizer from a local folder; chat template applied when the
tokenizer has one, with Qwen3's thinking turned off) or "openai" (any OpenAI-compatible /chat/completions endpoint,
e.g. vLLM serving Qwen3; the key is read from the environment variable named by `api_key_env`, if any).
Prompts are templates with {caption}, {task} and {description}; identical rendered prompts are asked once per clip,
so a template without {task} costs one call per clip. Qwen3 `<think>…</think>` blocks are ignored when parsing.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Literal

from uvc_data.annotators.weights import pretrained_dir, resolve_device
from uvc_data.errors import ConfigError, InfrastructureError
from uvc_data.http import RetryPolicy, post_json
from uvc_data.filters.base import FILTERS, TaskFilter
from uvc_data.sample import Sample
from uvc_data.tasks import TaskDef

DEFAULT_PROMPT = (
    "You select video clips for training a video generation model on the task \"{task}\" ({description}).\n"
    "Clip caption: \"{caption}\"\n"
    "Is this clip suitable for that task? Answer with one word: yes or no."
)
HOW = "download a causal LM (e.g. Qwen/Qwen3-8B) to a folder and set llm_judge.model_dir=<folder>; or use backend openai"
_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)
_ANSWER = re.compile(r"\b(yes|no)\b", re.I)


def parse_yes_no(text: str) -> bool | None:
    """The first standalone yes/no outside a <think> block: True / False, or None when there is none."""
    m = _ANSWER.search(_THINK.sub(" ", text))
    return None if m is None else m.group(1).lower() == "yes"


@dataclass
class LLMJudgeConfig:
    backend: Literal["transformers", "openai"] = "transformers"
    model_dir: str = ""  # transformers: local folder
    base_url: str = ""  # openai: e.g. http://localhost:8000/v1
    model: str = ""  # openai: served model name
    api_key_env: str = ""  # openai: name of the environment variable holding the key (empty: no key)
    prompt: str = DEFAULT_PROMPT
    task_prompts: dict[str, str] = field(default_factory=dict)  # task → template overriding `prompt`
    max_new_tokens: int = 16
    timeout_s: float = 60.0
    on_unparsed: Literal["keep", "reject"] = "keep"
    reject_empty_caption: bool = True
    device: str = "auto"

    def validate(self) -> None:
        if self.backend == "openai" and (not self.base_url or not self.model):
            raise ConfigError("base_url", "backend openai needs base_url and model")
        for name, tpl in {"prompt": self.prompt, **{f"task_prompts.{k}": v for k, v in self.task_prompts.items()}}.items():
            if "{caption}" not in tpl:
                raise ConfigError(name, "the prompt template must contain {caption}")
            try:
                tpl.format(caption="", task="", description="")
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(name, f"bad template ({exc}); placeholders: {{caption}}, {{task}}, {{description}}")
        if self.max_new_tokens < 1:
            raise ConfigError("max_new_tokens", "must be ≥ 1")


class TransformersLM:
    def __init__(self, model_dir: str, max_new_tokens: int, device: str) -> None:
        folder = pretrained_dir(model_dir, "causal LM for the LLM judge", HOW)
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.device = resolve_device(device)
        self.model = AutoModelForCausalLM.from_pretrained(str(folder)).to(self.device).eval()
        self.max_new_tokens = max_new_tokens

    def __call__(self, prompt: str) -> str:
        tok = self.tokenizer
        if getattr(tok, "chat_template", None):
            text = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                           add_generation_prompt=True, enable_thinking=False)
        else:
            text = prompt
        ids = tok(text, return_tensors="pt").to(self.device)
        with self.torch.inference_mode():
            out = self.model.generate(**ids, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
        return tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


class OpenAIChat:
    def __init__(self, base_url: str, model: str, api_key_env: str, max_tokens: int, timeout_s: float,
                 policy: RetryPolicy | None = None) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.policy = policy or RetryPolicy()
        self.model, self.max_tokens, self.timeout_s = model, max_tokens, timeout_s
        self.key = os.environ.get(api_key_env, "") if api_key_env else ""

    def __call__(self, prompt: str) -> str:
        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}], "temperature": 0,
                "max_tokens": self.max_tokens}
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        data = post_json(self.url, body, headers, self.timeout_s, self.policy)
        try:
            return str(data["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise InfrastructureError(f"endpoint {self.url} answered without choices[0].message.content") from exc


@FILTERS.register("llm_judge", LLMJudgeConfig)
class LLMJudgeFilter(TaskFilter):
    name = "llm_judge"

    def load(self) -> None:
        c = self.config
        self.ask: Callable[[str], str] = (
            OpenAIChat(c.base_url, c.model, c.api_key_env, c.max_new_tokens, c.timeout_s) if c.backend == "openai"
            else TransformersLM(c.model_dir, c.max_new_tokens, c.device)
        )

    def prepare(self, sample: Sample) -> None:
        self._answers: dict[str, bool | None] = {}

    def check_task(self, sample: Sample, task: TaskDef) -> str | None:
        c = self.config
        caption = sample.prompt.strip()
        if not caption:
            return "empty caption" if c.reject_empty_caption else None
        prompt = c.task_prompts.get(task.name, c.prompt).format(caption=caption, task=task.name,
                                                                 description=task.description)
        if prompt not in self._answers:
            self._answers[prompt] = parse_yes_no(self.ask(prompt))
            self.stats["asked"] += 1
        verdict = self._answers[prompt]
        if verdict is None:
            self.stats["unparsed"] += 1
            return "judge gave no yes/no answer" if c.on_unparsed == "reject" else None
        return None if verdict else "judge said no"
