"""Native RAFT (uvc_data.nets.raft) against the official RAFT VBench vendors: state-dict layout, output parity on
seeded random weights, the loader's errors, and dynamic_degree end to end against vbench/dynamic_degree.py's own
per-video code with the oracle network."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.nets.raft_oracle import (
    oracle_args,
    oracle_from_checkpoint,
    oracle_raft,
    random_official_state,
    save_official,
    textured_video,
)
from uvc_bench.metrics import MetricsConfig, Scorer
from uvc_bench.metrics.dims.dynamic import RAFT_CORR_BUDGET_BYTES, RAFTDynamicDegree, raft_pairs_per_forward
from uvc_bench.metrics.formulas import flow_magnitude, top_fraction_mean
from uvc_bench.metrics.preprocess import pad_replicate
from uvc_bench.metrics.registry import build_dimension
from uvc_data.errors import MissingWeightsError, UVCError
from uvc_data.nets.raft import RAFT, RAFTCheckpointError, load_raft, read_raft_state_dict
from uvc_data.nets.raft.corr import corr_volume_bytes

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")  # the oracle's autocast


@pytest.fixture(scope="module")
def official_ckpt(tmp_path_factory) -> Path:
    return save_official(random_official_state(0, flow_scale=0.3), tmp_path_factory.mktemp("raft") / "raft-things.pth")


def test_layout_equals_the_official_model():
    raft_cls, _ = oracle_raft()
    ref = {k: tuple(v.shape) for k, v in raft_cls(oracle_args()).state_dict().items()}
    ours = {k: tuple(v.shape) for k, v in RAFT().state_dict().items()}
    assert list(ours.items()) == list(ref.items())  # same keys, shapes and order
    assert len(ours) == 179 and ours["update_block.mask.2.weight"] == (576, 256, 1, 1)
    assert "cnet.layer2.0.norm3.running_var" in ours and "cnet.layer2.0.downsample.1.running_var" in ours


def test_module_prefix_is_stripped_and_the_checkpoint_loads_strictly(official_ckpt, tmp_path):
    raw = torch.load(str(official_ckpt), weights_only=True)
    assert all(k.startswith("module.") for k in raw)
    state = read_raft_state_dict(official_ckpt)
    assert set(state) == set(RAFT().state_dict()) and len(state) == len(raw)
    from safetensors.torch import save_file

    save_file(state, str(tmp_path / "raft.safetensors"))  # unprefixed keys, safetensors container
    a, b = load_raft(official_ckpt), load_raft(tmp_path / "raft.safetensors")
    assert not a.training and all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("size", [(128, 160), (130, 170)])
def test_flow_equals_the_official_forward(official_ckpt, size):
    """Two image pairs batched; (130, 170) is padded by our padder and by VBench's InputPadder to 136×176."""
    raft_cls, padder_cls = oracle_raft()
    ref = raft_cls(oracle_args())
    ref.load_state_dict({k[len("module."):]: v for k, v in torch.load(str(official_ckpt), weights_only=True).items()})
    ref.eval()
    ours = load_raft(official_ckpt)
    g = torch.Generator().manual_seed(3)
    img1, img2 = ((torch.rand(2, 3, *size, generator=g) * 255).round() for _ in range(2))
    with torch.no_grad():
        p1, p2 = padder_cls(img1.shape).pad(img1, img2)
        low_ref, up_ref = ref(p1, p2, iters=20, test_mode=True)
        (q1, pads), (q2, _) = pad_replicate(img1, 8), pad_replicate(img2, 8)
        low, up = ours(q1, q2, iters=20, test_mode=True)
    assert torch.equal(q1, p1) and torch.equal(q2, p2)
    assert up.shape == (2, 2, -(-size[0] // 8) * 8, -(-size[1] // 8) * 8)
    assert up_ref.abs().max() > 1.0  # the flow is not trivially zero
    torch.testing.assert_close(low, low_ref, atol=1e-4, rtol=0)
    torch.testing.assert_close(up, up_ref, atol=1e-4, rtol=0)  # measured: 0.0 (bit-identical) on CPU


def test_every_iteration_is_returned_outside_test_mode(official_ckpt):
    model = load_raft(official_ckpt)
    x = torch.full((1, 3, 128, 128), 100.0)
    with torch.no_grad():
        preds = model(x, x + 10, iters=3, test_mode=False)
        _, last = model(x, x + 10, iters=3)
    assert len(preds) == 3 and torch.equal(preds[-1], last)


def test_bad_sizes_and_iterations_are_refused(official_ckpt):
    model = load_raft(official_ckpt)
    with pytest.raises(ValueError, match="divisible by 8"):
        model(torch.zeros(1, 3, 130, 128), torch.zeros(1, 3, 130, 128))
    with pytest.raises(ValueError, match="at least 128 px"):  # the official code returns NaN at 64×96
        model(torch.zeros(1, 3, 64, 96), torch.zeros(1, 3, 64, 96))
    with pytest.raises(ValueError, match="iters"):
        model(torch.zeros(1, 3, 128, 128), torch.zeros(1, 3, 128, 128), iters=0)


def test_missing_file_raises_missing_weights(tmp_path):
    with pytest.raises(MissingWeightsError, match="raft-things") as e:
        load_raft(tmp_path / "nowhere.pth")
    assert str(tmp_path / "nowhere.pth") in str(e.value)


def test_wrong_checkpoint_names_the_file_and_the_keys(official_ckpt, tmp_path):
    state = torch.load(str(official_ckpt), weights_only=True)
    del state["module.fnet.conv1.weight"]
    state["module.extra.weight"] = torch.zeros(1)
    state["module.cnet.conv2.bias"] = torch.zeros(7)
    bad = save_official(state, tmp_path / "bad.pth")
    with pytest.raises(RAFTCheckpointError) as e:
        load_raft(bad)
    msg = str(e.value)
    assert isinstance(e.value, UVCError) and str(bad) in msg
    assert "missing keys: fnet.conv1.weight" in msg and "unexpected keys: extra.weight" in msg
    assert "cnet.conv2.bias (7,) ≠ (256,)" in msg
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(RAFTCheckpointError, match="cannot be read"):
        load_raft(tmp_path / "junk.pth")
    torch.save({"state": {"nested": torch.zeros(1)}}, str(tmp_path / "nested.pth"))
    with pytest.raises(RAFTCheckpointError, match="flat dict of tensors"):
        load_raft(tmp_path / "nested.pth")


def test_pairs_per_forward_respects_the_memory_budget():
    assert raft_pairs_per_forward(16, 136, 176) == 16
    per_pair = corr_volume_bytes(480, 832)
    assert 0.19e9 < per_pair < 0.22e9  # (60·104)² · 4 B · (1 + ¼ + 1/16 + 1/64)
    n = raft_pairs_per_forward(16, 480, 832)
    assert n * per_pair <= RAFT_CORR_BUDGET_BYTES < (n + 1) * per_pair
    assert raft_pairs_per_forward(16, 4000, 4000) == 1


def vbench_per_video(dd, frames: np.ndarray, fps: float) -> tuple[bool, list[float]]:
    """VBench's DynamicDegree.infer on decoded frames: its get_frames minus the decoding (frames as (1, 3, H, W)
    float tensors, extract_frame every max(1, round(fps/8))), then its own set_params / InputPadder / model /
    get_score / check_move. Returns the decision and every pair score it computed."""
    interval = max(1, round(fps / 8))  # the one line of get_frames we replace (it reads fps from cv2)
    decoded = [torch.from_numpy(f).permute(2, 0, 1).float()[None] for f in frames]
    dd.get_frames = lambda _path: dd.extract_frame(decoded, interval)
    scores: list[float] = []
    check = dd.check_move
    dd.check_move = lambda score_list: (scores.extend(score_list), check(score_list))[1]
    return bool(dd.infer("synthetic.mp4")), scores


@pytest.mark.parametrize("flow_scale,expect", [(0.3, True), (0.15, False)])
def test_dynamic_degree_from_config_equals_vbench(tmp_path, flow_scale, expect):
    """The dimension built as Scorer builds it (registry → RAFTDynamicDegree.from_config(MetricsConfig)), weights at
    <weights_dir>/raft/raft-things.pth (layout.py's 'raft_things' entry), against vbench/dynamic_degree.py's
    per-video code with the oracle on the same checkpoint. Random weights give nearly content-independent flows, so
    the flow head's scale sets the decision: one checkpoint moves every pair more than the threshold (3.05 px at
    130 px), the other less."""
    ckpt = save_official(random_official_state(0, flow_scale), tmp_path / "raft" / "raft-things.pth")
    frames, fps = textured_video(9, 130, 170, [0, 1, 3, 6, 0, 8, 2, 2]), 16.0  # 5 sampled frames, 4 pairs
    decision_ref, scores_ref = vbench_per_video(oracle_from_checkpoint(ckpt), frames, fps)

    cfg = MetricsConfig(weights_dir=str(tmp_path), dimensions=["dynamic_degree"], batch_size=3,
                        backend={"dynamic_degree": "reference"})
    dim, note = build_dimension("dynamic_degree", "reference", cfg)
    assert isinstance(dim, RAFTDynamicDegree) and note == ""
    flows = dim.flows
    scores: list[float] = []
    dim.flows = lambda sampled: (scores.append(top_fraction_mean(flow_magnitude(f))) or f for f in flows(sampled))
    out = dim.score(frames, fps)

    assert decision_ref is expect and len(scores_ref) == 4
    assert out.value == float(decision_ref) and out.backend == "raft"
    assert len(scores) == (1 if expect else 4)  # count_num = round(4·5/16) = 1: the dimension stops at the first move
    np.testing.assert_allclose(scores, scores_ref[: len(scores)], atol=1e-4, rtol=0)


def test_scorer_uses_the_raft_reference(official_ckpt, tmp_path):
    (tmp_path / "raft").mkdir()
    (tmp_path / "raft" / "raft-things.pth").symlink_to(official_ckpt)
    scorer = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=["dynamic_degree"]))
    assert scorer.backends == {"dynamic_degree": "raft"} and not scorer.fallbacks
    out = scorer.score_video(textured_video(3, 128, 128, [4, 4]), 8.0)["dynamic_degree"]
    assert out.backend == "raft" and out.value == 1.0  # this checkpoint moves ~4.6 px > 3 px per pair


def test_corrupt_checkpoint_is_reported_as_missing_and_auto_falls_back(tmp_path):
    p = tmp_path / "raft" / "raft-things.pth"
    p.parent.mkdir()
    p.write_bytes(b"not a checkpoint")
    ref = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=["dynamic_degree"],
                               backend={"dynamic_degree": "reference"}))
    assert ref.backends == {} and str(p) in ref.missing["dynamic_degree"]
    assert "raft/raft-things.pth" in ref.missing["dynamic_degree"]
    auto = Scorer(MetricsConfig(weights_dir=str(tmp_path), dimensions=["dynamic_degree"],
                                backend={"dynamic_degree": "auto"}))  # the default is reference: auto is explicit
    assert auto.backends == {"dynamic_degree": "dis_flow_offline"}
    assert "cannot be read" in auto.fallbacks["dynamic_degree"]


def test_frames_too_small_for_raft_are_rejected(official_ckpt, tmp_path):
    from uvc_data.errors import BadInputError

    dim = RAFTDynamicDegree(load_raft(official_ckpt), "cpu", 4)
    with pytest.raises(BadInputError, match="at least 128 px"):
        dim.score(np.zeros((3, 64, 96, 3), np.uint8), 8.0)
