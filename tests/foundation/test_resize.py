import numpy as np
import pytest

from uvc_data.errors import BadInputError
from uvc_data.resize import frame_indices, read_keys, resize_sample
from uvc_data.sample import Provenance, Sample


def _sample():
    t = np.arange(9)[:, None, None]
    yy, xx = np.mgrid[0:40, 0:80]
    frames = np.stack([(xx[None] * 3 + t * 10 + yy[None] * 0) % 256] * 3, -1).astype(np.uint8)
    mask = np.zeros((9, 40, 80), np.uint8)
    mask[:, :, :20] = 255
    prov = Provenance("a.mp4", "a", 0, 0, 0.0, 1.0, 16.0, 80, 40)
    return Sample("a-0000", frames, 16.0, prov, conditions={"gray": frames.copy(), "outpaint_mask": mask,
                  "ref_images": [frames[0]]}, tasks=["gray", "outpainting"])


def test_resize_keeps_conditions_aligned_and_masks_binary():
    s = _sample()
    r = resize_sample(s, 5, 20, 20)
    assert r.frames.shape == (5, 20, 20, 3) and r.conditions["gray"].shape == (5, 20, 20, 3)
    np.testing.assert_array_equal(r.frames, r.conditions["gray"])  # same indices, same resampling
    assert set(np.unique(r.conditions["outpaint_mask"])) <= {0, 255}
    assert r.conditions["ref_images"][0].shape == (20, 20, 3)
    assert r.fps == pytest.approx(8.0)  # every other frame of 9 → 5
    # cover + centre crop: 80×40 → 40×20, crop the middle 20 columns (source columns 20..59)
    assert not r.conditions["outpaint_mask"].any()
    assert resize_sample(s, 9, 40, 80) is s


def test_frame_indices_and_errors(tmp_path):
    assert frame_indices(9, 5).tolist() == [0, 2, 4, 6, 8]
    with pytest.raises(BadInputError, match="lower the requested frame count"):
        resize_sample(_sample(), 10, 20, 20)
    (tmp_path / "h.txt").write_text("# held out\na-0000\n\nb-0001\n")
    assert read_keys(str(tmp_path / "h.txt")) == {"a-0000", "b-0001"}
