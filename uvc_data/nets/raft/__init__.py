"""RAFT optical flow, basic model (raft-things.pth), in pure torch: docs/nets/raft.md.

    model = load_raft("raft-things.pth", device="cpu")        # strict load; 'module.' prefixes stripped
    _, flow_up = model(img1, img2, iters=20)                     # (B, 3, H, W) in [0, 255], H, W multiples of 8
"""
from uvc_data.nets.raft.config import RAFTConfig
from uvc_data.nets.raft.load import RAFTCheckpointError, load_raft, read_raft_state_dict
from uvc_data.nets.raft.model import RAFT, convex_upsample

__all__ = ["RAFT", "RAFTCheckpointError", "RAFTConfig", "convex_upsample", "load_raft", "read_raft_state_dict"]
