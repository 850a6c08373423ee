"""UVCBench metrics: VBench's six dimensions (reference and offline backends), condition fidelity. See docs/metrics.md."""
from uvc_bench.metrics.api import VBENCH_DIMENSIONS, DimScore, MetricsConfig, Scorer, aggregate

__all__ = ["VBENCH_DIMENSIONS", "DimScore", "MetricsConfig", "Scorer", "aggregate"]
