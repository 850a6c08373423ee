"""Stage 7 and execution of the dataset builder: inputs, stages, executors (local / Ray), staging with resume,
per-input shard groups committed by the workers (deterministic WebDataset shards + Parquet manifest fragments), the
manifest, into a local folder or an fsspec URL (s3://). See docs/pipeline.md."""
from uvc_data.writer.build import run_build
from uvc_data.writer.config import ExecutorConfig, WriterConfig
from uvc_data.writer.inputs import VIDEO_EXTENSIONS, discover_inputs
from uvc_data.writer.report import BuildSummary, format_summary
from uvc_data.writer.stages import StageSpec

__all__ = ["BuildSummary", "ExecutorConfig", "StageSpec", "VIDEO_EXTENSIONS", "WriterConfig", "discover_inputs",
           "format_summary", "run_build"]
