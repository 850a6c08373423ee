"""Lean shards (uvc-sample/2): gray derived when read, masks 1-bit packed; old uvc-sample/1 shards still read the same;
an unknown schema fails naming it."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.foundation.test_shards import _sample
from uvc_data.annotators.gray import to_gray3
from uvc_data.errors import BadInputError
from uvc_data.shards import iter_samples, pack_mask_bits, sample_from_wds, sample_to_wds, unpack_mask_bits, write_tar


def test_mask_bits_round_trip_exactly():
    rng = np.random.default_rng(0)
    mask = np.where(rng.random((5, 6, 7)) > 0.5, 255, 0).astype(np.uint8)
    np.testing.assert_array_equal(unpack_mask_bits(pack_mask_bits(mask), mask.shape), mask)
    with pytest.raises(BadInputError, match="mask bits"):
        unpack_mask_bits(pack_mask_bits(mask), (5, 6, 8))


def test_lean_sample_reads_back_like_the_full_one(tmp_path):
    s = _sample()
    s.conditions["gray"] = to_gray3(s.frames)  # what the gray annotator makes
    lean, full = sample_to_wds(s, threads=1, lean=True), sample_to_wds(s, threads=1)
    assert set(lean) - {"__key__"} == {"mp4", "txt", "json", "outpaint_mask.bits", "ref0.png"}  # no gray video
    assert json.loads(lean["json"])["conditions"] == {"gray": "derived", "outpaint_mask": "bits",
                                                      "ref_images": "images:1"}
    assert len(lean["outpaint_mask.bits"]) < len(full["outpaint_mask.mp4"]) / 5
    for name, item in (("lean", lean), ("full", full)):
        (tmp_path / name).mkdir()
        write_tar(tmp_path / name / "shard-000000.tar", [item])
    [a], [b] = list(iter_samples(tmp_path / "lean")), list(iter_samples(tmp_path / "full"))
    np.testing.assert_array_equal(a.frames, b.frames)  # the same clip bytes
    np.testing.assert_array_equal(a.conditions["outpaint_mask"], b.conditions["outpaint_mask"])
    np.testing.assert_array_equal(a.conditions["gray"], to_gray3(a.frames))  # derived from the decoded clip
    assert np.abs(a.conditions["gray"].astype(int) - b.conditions["gray"]).mean() < 4  # vs the stored, encoded one
    assert (a.key, a.prompt, a.tasks, a.signals) == (b.key, b.prompt, b.tasks, b.signals)


def test_a_gray_that_is_not_the_clips_own_is_stored_not_derived():
    s = _sample()  # its "gray" condition is the colour frames themselves: deriving would lose it
    lean = sample_to_wds(s, threads=1, lean=True)
    assert "gray.mp4" in lean and json.loads(lean["json"])["conditions"]["gray"] == "video"


def test_unknown_schema_or_kind_fails_naming_it():
    item = sample_to_wds(_sample(), threads=1, lean=True)
    meta = json.loads(item["json"])
    with pytest.raises(BadInputError, match="uvc-sample/9.*upgrade"):
        sample_from_wds(item | {"json": json.dumps(meta | {"schema": "uvc-sample/9"}).encode()})
    meta["conditions"]["gray"] = "latent"
    with pytest.raises(BadInputError, match="kind 'latent'"):
        sample_from_wds(item | {"json": json.dumps(meta).encode()})
