"""Loading model components from local diffusers directories, failing with MissingWeightsError when absent.

Nothing here downloads: every path is a local directory (a diffusers pipeline folder or one component folder).
"""
from __future__ import annotations

from pathlib import Path

from uvc_data.errors import MissingWeightsError

WEIGHT_FILES = ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.safetensors.index.json",
                "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")


def component_dir(root: str | Path, subfolder: str | None, what: str, how: str) -> Path:
    """The folder holding one component (`root/subfolder`, or `root` itself when it already is that component).

    Raises MissingWeightsError naming `what`, both places looked in and `how` to provide it, when the folder has no
    config.json plus weight file.
    """
    root = Path(root).expanduser()
    candidates = [root / subfolder, root] if subfolder else [root]
    for c in candidates:
        if (c / "config.json").is_file() and any((c / f).is_file() for f in WEIGHT_FILES):
            return c
    raise MissingWeightsError(what, [str(c) for c in candidates], how)


def tokenizer_dir(root: str | Path, what: str, how: str) -> Path:
    root = Path(root).expanduser()
    candidates = [root / "tokenizer", root]
    for c in candidates:
        if (c / "tokenizer_config.json").is_file():
            return c
    raise MissingWeightsError(what, [str(c) for c in candidates], how)


TRANSFORMER_HOW = (
    "download a diffusers checkpoint (e.g. `huggingface-cli download Wan-AI/Wan2.1-VACE-14B-diffusers "
    "--local-dir DIR`) on a machine with internet, copy it here and set `model.path` (or `--set model.path=DIR`); "
    "for a CPU smoke run use the `tiny_cpu` recipe, which builds its own tiny models"
)
