"""Bench models behind one narrow batched interface (base.py) and a registry (registry.py)."""
from uvc_bench.models.base import CaseFiles, GenRequest, GenResult, VideoModel
from uvc_bench.models.registry import build_model, model_class, model_names, register_model

__all__ = ["CaseFiles", "GenRequest", "GenResult", "VideoModel", "build_model", "model_class", "model_names",
           "register_model"]
