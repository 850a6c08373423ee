"""Native AMT-S frame interpolation (the network VBench's motion_smoothness uses), eval only:
`load_amt_s(path)` → `AMTS`, called as model(img0, img1, embt, scale_factor) → the frame at t.
See docs/nets/amt.md."""
from uvc_bench.metrics.nets.amt.config import AMTSConfig
from uvc_bench.metrics.nets.amt.load import UnusableWeightsError, load_amt_s, read_state_dict
from uvc_bench.metrics.nets.amt.model import AMTS

__all__ = ["AMTS", "AMTSConfig", "UnusableWeightsError", "load_amt_s", "read_state_dict"]
