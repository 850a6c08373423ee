"""Every input in the broken corpus gives a BadInputError with a clear reason — no hang, no crash, no silent skip."""
from __future__ import annotations

import time

import pytest

from uvc_data.errors import BadInputError
from uvc_data.sample import VideoInput
from uvc_data.steps.split import DecodeSplit, SplitConfig
from uvc_data.testing.broken import make_broken_corpus
from uvc_data.video.reader import DecodeConfig

CASES = ["zero_bytes", "not_a_video", "random_bytes", "audio_only", "missing", "truncated", "truncated_faststart",
         "broken_frames", "one_frame", "tiny_8x8", "huge_9216x4608"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_broken_corpus(tmp_path_factory.mktemp("broken"))


def test_corpus_has_every_case(corpus):
    assert sorted(corpus) == sorted(CASES)


@pytest.mark.parametrize("name", CASES)
def test_bad_input_raises_with_reason(corpus, name):
    case = corpus[name]
    step = DecodeSplit(SplitConfig(decode=DecodeConfig(width=64, height=48)))
    t0 = time.perf_counter()
    with pytest.raises(BadInputError) as info:
        list(step.run([VideoInput(case.path, name)]))
    assert time.perf_counter() - t0 < 20
    message = str(info.value)
    assert case.path in message and case.reason in message.lower(), message
    assert step.stats["bad_inputs"] == 1


def test_limits_are_configurable(corpus):
    cfg = SplitConfig(decode=DecodeConfig(width=64, height=48, min_src_side=4))
    step = DecodeSplit(cfg)
    assert list(step.run([VideoInput(corpus["tiny_8x8"].path, "t")])) == []  # accepted, too short for a clip
    assert step.stats["frames_decoded"] == 10 and step.stats["bad_inputs"] == 0


def test_skip_mode_goes_through_the_whole_corpus(corpus):
    step = DecodeSplit(SplitConfig(decode=DecodeConfig(width=64, height=48), on_bad_input="skip"))
    assert list(step.run(VideoInput(c.path, n) for n, c in sorted(corpus.items()))) == []
    assert sorted(p for p, _ in step.failures) == sorted(c.path for c in corpus.values())
