"""The demo's extra training clips: variants of the footage (crop, time reversal) and the held-out overlap rule."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.demo_data import (Variant, apply_variant, default_variants, original_span, overlapping_keys,
                                 write_variants)
from uvc_data.errors import BadInputError
from uvc_data.video.codec import decode_video, encode_video


def _ramp(t=6, h=40, w=60):
    """Frame k is uniformly 20·k + 10 (time order readable after lossy coding); a bright square marks the top left."""
    v = np.zeros((t, h, w, 3), np.uint8)
    for k in range(t):
        v[k] = 20 * k + 10
    v[:, :8, :8] = 250
    return v


def test_default_variants_names_and_reversal():
    names = [v.name for v in default_variants(2, True)]
    assert names == ["orig", "orig-rev", "crop0", "crop0-rev", "crop1", "crop1-rev"]
    assert [v.name for v in default_variants(0, False)] == ["orig"]
    assert default_variants(1, True)[3] == Variant("crop0-rev", True, (0.0, 0.0, 0.8, 0.8))


def test_apply_variant_crops_resizes_and_reverses():
    v = _ramp()
    out = apply_variant(v, Variant("x", reverse=True, crop=(0.5, 0.5, 0.5, 0.5)), short_side=10)
    assert out.shape == (6, 10, 16, 3)  # crop 20×30 → short side 10 (even sizes)
    assert [int(f[..., 0].mean()) for f in out] == [110, 90, 70, 50, 30, 10]  # reversed; the marked corner cropped away
    whole = apply_variant(v, Variant("y"), short_side=20)
    assert whole.shape == (6, 20, 30, 3) and whole[0, 0, 0, 0] == 250 and whole[0, -1, -1, 0] == 10


def test_original_span_maps_reversed_time_back():
    assert original_span(1.0, 2.0, False, 10.0) == (1.0, 2.0)
    assert original_span(1.0, 2.0, True, 10.0) == (8.0, 9.0)


def _manifest(path, rows):
    pq.write_table(pa.Table.from_pylist([{"key": k, "status": "ok", "source": s, "start_s": a, "end_s": b}
                                         for k, s, a, b in rows]), path)
    return path


def test_overlapping_keys_excludes_exactly_the_clips_showing_held_out_footage(tmp_path):
    held = _manifest(tmp_path / "held.parquet", [("h0", "/in/bikes.mp4", 2.0, 3.0), ("h1", "/in/bikes.mp4", 5.0, 6.0),
                                                  ("h2", "/in/bunny.mp4", 0.0, 1.0)])
    variants = {"bikes.orig": {"source": "bikes", "reverse": False, "duration_s": 10.0},
                "bikes.orig-rev": {"source": "bikes", "reverse": True, "duration_s": 10.0},
                "bunny.crop0": {"source": "bunny", "reverse": False, "duration_s": 4.0}}
    train = _manifest(tmp_path / "train.parquet", [
        ("a", "/t/bikes.orig.mp4", 0.0, 1.0),       # no overlap
        ("b", "/t/bikes.orig.mp4", 2.5, 3.5),       # overlaps h0
        ("c", "/t/bikes.orig.mp4", 3.0, 4.0),       # touches h0 only at 3.0 s: kept (margin 0)
        ("d", "/t/bikes.orig-rev.mp4", 4.5, 5.5),   # original span 4.5–5.5: overlaps h1
        ("e", "/t/bikes.orig-rev.mp4", 2.0, 3.0),   # original span 7–8: kept
        ("f", "/t/bunny.crop0.mp4", 0.5, 1.5),      # overlaps h2 (another variant of the same source)
        ("g", "/t/bunny.crop0.mp4", 2.0, 3.0)])     # kept
    assert overlapping_keys(train, variants, held, {"h0", "h1", "h2"}, margin_s=0.0) == {"b", "d", "f"}
    assert overlapping_keys(train, variants, held, {"h0"}, margin_s=0.0) == {"b"}  # only listed keys are held out
    assert overlapping_keys(train, variants, held, {"h0", "h1", "h2"}, margin_s=0.6) == set()


def test_overlapping_keys_names_an_unknown_source(tmp_path):
    held = _manifest(tmp_path / "held.parquet", [("h0", "/in/bikes.mp4", 2.0, 3.0)])
    train = _manifest(tmp_path / "train.parquet", [("a", "/t/other.orig.mp4", 0.0, 1.0)])
    with pytest.raises(BadInputError, match="other.orig.mp4.*variants.json"):
        overlapping_keys(train, {}, held, {"h0"}, 0.0)


def test_write_variants_round_trip(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "clip.mp4").write_bytes(encode_video(_ramp(t=8, h=40, w=60), 10.0, crf=0))
    (src / "clip.txt").write_text("a caption\n")
    table = write_variants(src, tmp_path / "out", default_variants(1, True), short_side=20)
    assert sorted(table) == ["clip.crop0", "clip.crop0-rev", "clip.orig", "clip.orig-rev"]
    assert table["clip.orig-rev"] == {"source": "clip", "duration_s": 0.8, "name": "orig-rev", "reverse": True,
                                      "crop": None}
    assert (tmp_path / "out" / "clip.crop0-rev.txt").read_text() == "a caption\n"
    fwd, fps = decode_video(tmp_path / "out" / "clip.orig.mp4")
    rev, _ = decode_video(tmp_path / "out" / "clip.orig-rev.mp4")
    assert fps == 10.0 and fwd.shape == (8, 20, 30, 3)
    means = [float(f[10:, 10:].mean()) for f in fwd]
    assert np.allclose(means, [20 * k + 10 for k in range(8)], atol=3)
    assert np.allclose([float(f[10:, 10:].mean()) for f in rev], means[::-1], atol=3)
