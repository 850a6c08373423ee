"""Native pure-torch implementations of the reference networks the toolkit needs (no torchvision, no vendored code).

Each network keeps the official checkpoint's parameter names and shapes, so the published file loads with
`load_state_dict(strict=True)`; architecture hyper-parameters live in a typed config dataclass.

- `uvc_data.nets.raft`: RAFT (Teed & Deng, ECCV 2020), the "large"/basic model of raft-things.pth — used by the
  benchmark's dynamic_degree and by the data builder's flow annotator (docs/nets/raft.md).
"""
