"""Native MUSIQ (pyiqa's architecture, the SPAQ checkpoint VBench's imaging_quality uses); docs/nets/musiq.md."""
from uvc_bench.metrics.nets.musiq.config import MusiqConfig
from uvc_bench.metrics.nets.musiq.load import MusiqCheckpointError, load_musiq, read_state_dict
from uvc_bench.metrics.nets.musiq.model import MUSIQ

__all__ = ["MUSIQ", "MusiqCheckpointError", "MusiqConfig", "load_musiq", "read_state_dict"]
