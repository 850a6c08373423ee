import hashlib

import numpy as np
import pytest
import webdataset as wds

from uvc_data.errors import BadInputError
from uvc_data.sample import Provenance, Sample
from uvc_data.shards import iter_samples, sample_to_wds, shard_paths, write_tar
from uvc_data.vcu import build_vcu


def _sample(key="clipa-0000"):
    t = np.linspace(0, 1, 9)[:, None, None, None]
    yy, xx = np.mgrid[0:32, 0:48]
    frames = np.clip(127 + 100 * np.sin(xx[None] / 5.0 + 6 * t[..., 0]) * np.cos(yy[None] / 7.0), 0, 255).astype(np.uint8)
    frames = np.stack([frames, frames[:, ::-1], frames], -1)
    mask = np.zeros((9, 32, 48), np.uint8)
    mask[:, :, :8] = 255
    prov = Provenance("in/a.mp4", "clipa", shot=0, clip=0, start_s=0.0, end_s=1.1, src_fps=30.0, src_width=640, src_height=480)
    return Sample(key, frames, 8.0, prov, prompt="a wave, é", conditions={"gray": frames, "outpaint_mask": mask,
                  "ref_images": [frames[0]]}, tasks=["gray", "outpainting", "r2v"], signals={"motion": 1.5})


def test_round_trip_through_plain_webdataset(tmp_path):
    s = _sample()
    write_tar(tmp_path / "shard-000000.tar", [sample_to_wds(s)])
    raw = list(wds.WebDataset(str(tmp_path / "shard-000000.tar"), shardshuffle=False))
    members = {k for k in raw[0] if not k.startswith("__")}
    assert members == {"mp4", "txt", "json", "gray.mp4", "outpaint_mask.mp4", "ref0.png"}
    [r] = list(iter_samples(tmp_path))
    assert r.key == s.key and r.prompt == s.prompt and r.tasks == s.tasks and r.provenance == s.provenance
    assert r.frames.shape == s.frames.shape and np.abs(r.frames.astype(int) - s.frames).mean() < 8  # lossy H.264 4:2:0 on a tiny, saturated clip
    np.testing.assert_array_equal(r.conditions["outpaint_mask"], s.conditions["outpaint_mask"])  # lossless masks
    np.testing.assert_array_equal(r.conditions["ref_images"][0], s.conditions["ref_images"][0])  # PNG is lossless
    v = build_vcu("outpainting", r.prompt, r.frames, r.conditions)
    assert v.masks[:, :, :8].all() and not v.masks[:, :, 8:].any()


def test_tar_is_deterministic_and_atomic(tmp_path):
    items = [sample_to_wds(_sample(f"clipa-000{i}")) for i in range(2)]
    write_tar(tmp_path / "a.tar", items)
    write_tar(tmp_path / "b.tar", items)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()
    assert digest(tmp_path / "a.tar") == digest(tmp_path / "b.tar")
    assert not list(tmp_path.glob("*.tmp"))


def test_bad_keys_and_paths_are_rejected(tmp_path):
    with pytest.raises(BadInputError, match="contains a dot"):
        sample_to_wds(_sample("bad.key"))
    with pytest.raises(BadInputError, match="no shards found"):
        shard_paths(tmp_path / "nothing")


def test_encoding_is_reproducible_at_working_size():
    """Resumable builds need the same bytes for the same frames (x264 mb-tree off, fixed thread count)."""
    from uvc_data.video.codec import encode_video

    t = np.arange(17)[:, None, None]
    yy, xx = np.mgrid[0:240, 0:416]
    f = (127 + 100 * np.sin(xx[None] / 9 + t * 0.3) * np.cos(yy[None] / 13 - t * 0.2)).astype(np.uint8)
    f = np.stack([f, f[:, ::-1], 255 - f], -1)
    assert len({hashlib.sha256(encode_video(f, 16, threads=2)).hexdigest() for _ in range(3)}) == 1
