import numpy as np
import pytest

from uvc_data.errors import BadInputError
from uvc_data.vcu import VCU, build_vcu, fit_on_white, to_uint8, to_unit

T, H, W = 5, 16, 24
rng = np.random.default_rng(0)
CLIP = rng.integers(0, 256, (T, H, W, 3), dtype=np.uint8)
CTRL = rng.integers(0, 256, (T, H, W, 3), dtype=np.uint8)
REF = fit_on_white(rng.integers(0, 256, (10, 10, 3), dtype=np.uint8), H, W)
OUT_MASK = np.zeros((T, H, W), np.uint8)
OUT_MASK[:, :, :6] = 255
OUT_MASK[:, :, -6:] = 255
COND = {"depth": CTRL, "gray": CTRL, "ref_images": [REF, REF], "outpaint_mask": OUT_MASK}


def test_t2v_is_zeros_and_ones():
    v = build_vcu("t2v", "p", None, {}, num_frames=T, size=(H, W))
    assert v.frames.shape == (T, H, W, 3) and not v.frames.any() and (v.masks == 1).all() and v.refs == []


def test_r2v_prepends_references_with_zero_masks():
    v = build_vcu("r2v", "p", CLIP, COND)
    f, m = v.context()
    assert f.shape[0] == T + 2 and (m[:2] == 0).all() and (m[2:] == 1).all() and not f[2:].any()
    np.testing.assert_allclose(f[0], to_unit(REF))


def test_v2v_uses_control_video_with_ones():
    v = build_vcu("depth", "p", CLIP, COND)
    np.testing.assert_allclose(v.frames, to_unit(CTRL))
    assert (v.masks == 1).all()


def test_extension_first_frame_then_gray():
    v = build_vcu("extension", "p", CLIP, COND)
    np.testing.assert_allclose(v.frames[0], to_unit(CLIP[0]))
    assert not v.frames[1:].any()
    assert (v.masks[0] == 0).all() and (v.masks[1:] == 1).all()


def test_firstframe_plus_control():
    v = build_vcu("firstframe+depth", "p", CLIP, COND)
    np.testing.assert_allclose(v.frames[0], to_unit(CLIP[0]))
    np.testing.assert_allclose(v.frames[1:], to_unit(CTRL[1:]))
    assert (v.masks[0] == 0).all() and (v.masks[1:] == 1).all()


def test_reference_plus_control():
    v = build_vcu("reference+gray", "p", CLIP, COND)
    f, m = v.context()
    assert f.shape[0] == T + 2
    np.testing.assert_allclose(f[2:], to_unit(CTRL))
    assert (m[2:] == 1).all()


def test_outpainting_keeps_centre_and_grays_border():
    v = build_vcu("outpainting", "p", CLIP, COND)
    assert (v.masks[:, :, :6] == 1).all() and (v.masks[:, :, 6:-6] == 0).all()
    assert not v.frames[:, :, :6].any()  # generated area is neutral gray (0)
    np.testing.assert_allclose(v.frames[:, :, 6:-6], to_unit(CLIP)[:, :, 6:-6])
    inactive, reactive = v.inactive_reactive()
    assert not reactive.any()  # F·M is zero where F is gray


def test_missing_condition_names_what_is_missing():
    with pytest.raises(BadInputError, match=r"needs conditions \['pose'\]"):
        build_vcu("pose", "p", CLIP, COND)


def test_vcu_shape_checks():
    with pytest.raises(BadInputError, match="masks"):
        VCU("p", np.zeros((T, H, W, 3), np.float32), np.zeros((T, H, W + 1), np.float32))


def test_unit_round_trip_and_white_canvas():
    np.testing.assert_array_equal(to_uint8(to_unit(CLIP)), CLIP)
    canvas = fit_on_white(np.zeros((4, 40, 3), np.uint8), H, W)  # wide black strip, fitted and centred
    assert canvas.shape == (H, W, 3) and (canvas[0] == 255).all() and (canvas[H // 2] == 0).all()
