"""Captions from files next to the inputs (offline; also how hand-written or pre-computed captions come in).

Looked up in order (names configurable, `{stem}` = the input's file name without extension):
  <dir>/{stem}.txt              one caption for every clip of that video
  <dir>/{stem}.captions.json    [{"start_s": .., "end_s": .., "caption": ..}, ...]: the entry overlapping the clip most
  <dir>/captions.jsonl          lines {"file": "<name.ext>", "caption": .., optional "start_s"/"end_s"}
"""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

from uvc_data.captioners.base import CaptionContext, Captioner
from uvc_data.errors import BadInputError


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _best(entries: list[dict[str, Any]], ctx: CaptionContext, where: str) -> str | None:
    best, best_ov = None, -1.0
    for i, e in enumerate(entries):
        if "caption" not in e:
            raise BadInputError(f"{where}: entry {i} has no 'caption'")
        s, t = float(e.get("start_s", 0.0)), float(e.get("end_s", float("inf")))
        ov = _overlap(s, t, ctx.start_s, ctx.end_s)
        if ov > best_ov:
            best, best_ov = str(e["caption"]), ov
    return best if best_ov > 0 else None


NO_CAPTION_SOURCE = (
    "no caption source: none of the {n} inputs has a sidecar caption (looked for {names} next to each input). "
    "Give one of: sidecar files next to the inputs (docs/captions.md); an OpenAI-compatible endpoint "
    "(--set caption.backend=openai --set caption.endpoint=http://host:8000/v1 --set caption.model=NAME); "
    "or a local VLM (--set caption.backend=transformers --set caption.model_path=/models/Qwen2.5-VL-7B-Instruct)")


def check_caption_source(sources: list[str], cfg) -> list[str]:
    """Before any work: raise ConfigError (field caption.backend, with the options) when the sidecar backend would
    find a caption for none of `sources`; otherwise return the sources without one (their clips will be rejected)."""
    from uvc_data.errors import ConfigError

    captioner = SidecarCaptioner(cfg)
    missing = [s for s in sources if not captioner.has_caption(s)]
    if sources and len(missing) == len(sources):
        raise ConfigError("caption.backend", NO_CAPTION_SOURCE.format(n=len(sources), names=list(cfg.sidecar_names)))
    return missing


class SidecarCaptioner(Captioner):
    name = "sidecar"

    def __init__(self, cfg):
        super().__init__(cfg)
        self._cache: dict[Path, Any] = {}
        self._lock = threading.Lock()

    def _load(self, path: Path) -> Any:
        with self._lock:
            if path not in self._cache:
                if not path.is_file():
                    self._cache[path] = None
                elif path.suffix == ".txt":
                    self._cache[path] = path.read_text(encoding="utf-8").strip()
                elif path.suffix == ".jsonl":
                    rows = []
                    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                        if line.strip():
                            try:
                                rows.append(json.loads(line))
                            except json.JSONDecodeError as exc:
                                raise BadInputError(f"{path}:{n}: not JSON: {exc}") from exc
                    self._cache[path] = rows
                else:
                    try:
                        self._cache[path] = json.loads(path.read_text(encoding="utf-8"))
                    except json.JSONDecodeError as exc:
                        raise BadInputError(f"{path}: not JSON: {exc}") from exc
            return self._cache[path]

    def has_caption(self, source: str | Path) -> bool:
        """Whether any sidecar names this input (without reading its frames): checked before a build starts."""
        src = Path(source)
        for pattern in self.cfg.sidecar_names:
            path = src.parent / pattern.format(stem=src.stem, name=src.name)
            try:
                data = self._load(path)
            except BadInputError:
                return True  # there is a sidecar; its error is reported per clip
            if isinstance(data, str) and data:
                return True
            if isinstance(data, list) and (path.suffix != ".jsonl" or
                                           any(r.get("file") in (src.name, str(src)) for r in data)):
                return bool(data)
        return False

    def caption(self, frames: np.ndarray, fps: float, context: CaptionContext) -> str:
        src = Path(context.source)
        looked = []
        for pattern in self.cfg.sidecar_names:
            path = src.parent / pattern.format(stem=src.stem, name=src.name)
            looked.append(str(path))
            data = self._load(path)
            if data is None:
                continue
            if isinstance(data, str):
                return data
            if path.suffix == ".jsonl":
                rows = [r for r in data if r.get("file") in (src.name, str(src))]
                found = _best(rows, context, str(path)) if rows else None
            else:
                found = _best(list(data), context, str(path))
            if found is not None:
                return found
        raise BadInputError(f"no sidecar caption for {src.name} [{context.start_s:.2f}s, {context.end_s:.2f}s]; "
                            f"looked in: {', '.join(looked)} (see docs/captions.md)")
