"""The payload between stages: a Sample as encoded bytes, decoded lazily by the stage that receives it.

A Sample leaving a stage on the Ray executor becomes a `PackedSample`: its metadata, its clip as an `EncodedClip`
and every condition as the shard's own members (`uvc_data.shards.encode_condition`, the writer's crf / preset /
threads / lean), each condition encoded once, by the stage that made it. The staging writer puts those condition
members into the shard as they are: it never decodes and re-encodes what a stage already encoded. The receiving
stage gets a Sample whose conditions decode only when a step reads them (`Conditions`), and whose clip is decoded
whole before its steps run, or frame by frame as they index it (`LazyFrames`, for stages declared
`StageSpec.lazy_frames`: the caption stage, where the captioner's own frame sampling decides which frames are
decoded).

The clip (`TransportConfig.clip`):
  "lossless" (default)  one QOI image per frame: later stages see exactly the frames the first stage made, as with
                        the local executor; the writer encodes the shard's H.264 from them. Any frame decodes alone.
  "shard"               the shard's own H.264 member (the writer's crf, preset, threads), encoded once when the clip
                        leaves the first stage: 10–75× fewer bytes per hop than "lossless", but every later stage
                        (captioner, annotators, task filters) sees the decoded shard clip — what a trainer reads —
                        instead of the frames before encoding (the first stage's own cheap filters still see those),
                        so conditions and signals differ slightly from a lossless build. Part of the build's
                        fingerprint; both executors then pass packed samples, so their shards stay identical.
Measured bytes and CPU of the choices: docs/benchmarks.md ("Object-store bytes per clip").

Decoded arrays are read-only: a step that changes the clip or a condition assigns a new array (which is then
encoded afresh); an unchanged clip or condition travels on as the bytes it arrived as. A rejected sample (a clip-level
rejection, or no task left: `writer.records.status_of`) travels as metadata only — its clip's shape and its
conditions' names — since the writer stages it as a manifest row and steps skip samples without tasks (the filter,
annotator and caption bases do); a step that reads its frames anyway gets an error saying so.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from uvc_data.errors import BadInputError, ConfigError
from uvc_data.sample import Sample
from uvc_data.shards import EncodedCondition, decode_condition, encode_condition, sample_to_wds
from uvc_data.video.codec import decode_video, encode_video
from uvc_data.writer.records import REJECTED, status_of

QOI, H264, UNSENT = "qoi", "h264", "unsent"
_ORIGIN = "transport.clip"  # Sample.scratch key: (the frames array a stage was handed, the EncodedClip it came from)


@dataclass
class TransportConfig:
    """How a sample's clip travels between stages (conditions always travel as the shard's members).

    clip="lossless": QOI per frame, later stages see the first stage's frames exactly (faithful default).
    clip="shard": the shard's own H.264 bytes (lossy): 10–75× fewer bytes per hop; later stages see the decoded
    shard clip instead of the frames before encoding, so their conditions differ slightly from a lossless build.
    """

    clip: Literal["lossless", "shard"] = "lossless"

    def validate(self) -> None:
        if self.clip not in ("lossless", "shard"):
            raise ConfigError("writer.transport.clip", f"{self.clip!r} is not one of lossless, shard")


@dataclass(frozen=True)
class EncodedClip:
    """A clip as bytes. codec "qoi": one lossless QOI image per frame; "h264": one MP4 (the shard's member);
    "unsent": no bytes (a rejected sample's clip: only its shape travels)."""

    codec: str
    shape: tuple[int, int, int, int]  # (T, H, W, 3)
    fps: float
    blobs: tuple[bytes, ...]

    @property
    def nbytes(self) -> int:
        return sum(len(b) for b in self.blobs)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def encode_qoi(frames_THWC: np.ndarray, fps: float) -> EncodedClip:
    """(T, H, W, 3) uint8 → one QOI image per frame (lossless, deterministic; each frame decodes alone)."""
    import av

    frames_THWC = np.asarray(frames_THWC)
    if frames_THWC.dtype != np.uint8 or frames_THWC.ndim != 4 or frames_THWC.shape[-1] != 3:
        raise BadInputError(f"the clip must be (T, H, W, 3) uint8 to travel, got {frames_THWC.shape} "
                            f"{frames_THWC.dtype}")
    t, h, w, _ = frames_THWC.shape
    ctx = av.CodecContext.create("qoi", "w")
    ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base = w, h, "rgb24", Fraction(1, 1)
    blobs = []
    for i, frame in enumerate(frames_THWC):
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        vf.pts = i
        packets = [bytes(p) for p in ctx.encode(vf)]
        if len(packets) != 1:
            raise BadInputError(f"QOI gave {len(packets)} packets for frame {i} (expected 1)")
        blobs.append(packets[0])
    return EncodedClip(QOI, (t, h, w, 3), float(fps), tuple(blobs))


def _decode_qoi(blob: bytes) -> np.ndarray:
    import av

    ctx = av.CodecContext.create("qoi", "r")
    frames = ctx.decode(av.Packet(blob))
    if len(frames) != 1:
        raise BadInputError(f"a QOI frame decoded to {len(frames)} frames")
    return frames[0].to_ndarray(format="rgb24")


def encode_shard_clip(frames_THWC: np.ndarray, fps: float, crf: int, preset: str, threads: int) -> EncodedClip:
    """The clip as the shard's H.264 member (the same call sample_to_wds makes)."""
    frames_THWC = np.asarray(frames_THWC)
    mp4 = encode_video(frames_THWC, fps, crf=crf, preset=preset, threads=threads)
    return EncodedClip(H264, tuple(int(n) for n in frames_THWC.shape), float(fps), (mp4,))


class LazyFrames:
    """A clip's (T, H, W, 3) uint8 frames, decoded on demand from an EncodedClip.

    Indexing decodes only what it selects along time (`frames[idx]`, `frames[3]`, `frames[::8]`) for a per-frame
    codec; `shape`, `dtype`, `ndim` and `len()` decode nothing. Anything else — `np.asarray(frames)`, an ndarray
    method such as `frames.mean()` — decodes the whole clip once and works on that array, so a step always sees the
    right frames; it only pays for what it reads. `decoded` counts the frames decoded so far.
    """

    def __init__(self, clip: EncodedClip):
        self.clip = clip
        self.shape = clip.shape
        self.dtype = np.dtype(np.uint8)
        self.ndim = 4
        self._frames: dict[int, np.ndarray] = {}
        self._all: np.ndarray | None = None
        self.decoded = 0

    def __len__(self) -> int:
        return self.shape[0]

    def full(self) -> np.ndarray:
        """The whole clip (decoded once, read-only)."""
        if self.clip.codec == UNSENT:
            raise BadInputError("this sample was rejected in an earlier stage, so its clip did not travel on (a "
                                "rejected sample is staged as metadata only): skip samples without tasks, as the "
                                "filter, annotator and caption bases do")
        if self._all is None:
            if self.clip.codec == QOI:
                self._all = _read_only(np.stack([self._frame(i) for i in range(self.shape[0])]))
                self._frames = {}  # the whole clip now holds them
            else:
                self._all = _read_only(decode_video(self.clip.blobs[0])[0])
                self.decoded = self.shape[0]
                if self._all.shape != self.shape:
                    raise BadInputError(f"the clip decoded to {self._all.shape}, it was sent as {self.shape}")
        return self._all

    def _frame(self, i: int) -> np.ndarray:
        if self._all is not None:
            return self._all[i]
        if i not in self._frames:
            self._frames[i] = _read_only(_decode_qoi(self.clip.blobs[i]))
            self.decoded += 1
        return self._frames[i]

    def __getitem__(self, key: Any) -> np.ndarray:
        head, rest = (key[0], key[1:]) if isinstance(key, tuple) and key else (key, ())
        if self.clip.codec != QOI or head is Ellipsis or head is None:  # whole-clip codecs decode it all
            return self.full()[key]
        if isinstance(head, (int, np.integer)):
            frame = self._frame(range(self.shape[0])[head])
            return frame[rest] if rest else frame
        if isinstance(head, slice):
            idx = list(range(self.shape[0])[head])
        else:
            sel = np.asarray(head)
            if sel.dtype == bool and sel.shape == self.shape[:1]:
                idx = np.flatnonzero(sel).tolist()
            elif np.issubdtype(sel.dtype, np.integer) and sel.ndim == 1:
                idx = [range(self.shape[0])[int(i)] for i in sel]
            else:
                return self.full()[key]
        picked = np.stack([self._frame(i) for i in idx]) if idx else np.empty((0, *self.shape[1:]), np.uint8)
        return picked[(slice(None), *rest)] if rest else picked

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.full()
        return a.astype(dtype) if dtype is not None else (a.copy() if copy else a)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("clip", "_frames", "_all"):
            raise AttributeError(name)
        return getattr(self.full(), name)

    def __repr__(self) -> str:
        return f"LazyFrames({self.clip.codec}, shape={self.shape}, decoded={self.decoded})"


class Conditions(MutableMapping):
    """A sample's conditions as they arrived (encoded) plus those set in this stage; a value decodes when read.

    Reading an earlier stage's condition gives it as the shard stores it (control videos through H.264: what a
    trainer reads), read-only. Setting a name replaces its encoded form: the new value is encoded when the sample
    leaves the stage."""

    def __init__(self, encoded: dict[str, EncodedCondition], sample: Sample):
        self._encoded = dict(encoded)
        self._values: dict[str, Any] = {}
        self._sample = sample

    def encoded(self, name: str) -> EncodedCondition | None:
        """The members `name` arrived as, when it was not replaced since."""
        return self._encoded.get(name)

    def __getitem__(self, name: str) -> Any:
        if name not in self._values:
            if name not in self._encoded:
                raise KeyError(name)
            kind, members = self._encoded[name]
            if kind == UNSENT:
                raise BadInputError(f"condition {name!r} of a sample rejected in an earlier stage did not travel on")
            t, h, w, _ = self._sample.frames.shape
            value = decode_condition(name, kind, members, (t, h, w), self._sample.frames)
            self._values[name] = [_read_only(v) for v in value] if isinstance(value, list) else _read_only(value)
        return self._values[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._encoded.pop(name, None)
        self._values[name] = value

    def __delitem__(self, name: str) -> None:
        if name not in self._encoded and name not in self._values:
            raise KeyError(name)
        self._encoded.pop(name, None)
        self._values.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._encoded) + [n for n in self._values if n not in self._encoded])

    def __len__(self) -> int:
        return len(set(self._encoded) | set(self._values))

    def __repr__(self) -> str:
        return f"Conditions({sorted(self)})"


@dataclass
class PackedSample:
    """What travels between stages: the sample's metadata (a Sample without frames and conditions), its clip and
    its conditions as bytes. No NumPy array inside: its pickled size is its bytes."""

    meta: Sample
    clip: EncodedClip | None
    conditions: dict[str, EncodedCondition]

    @property
    def nbytes(self) -> int:
        clip = self.clip.nbytes if self.clip is not None else 0
        return clip + sum(len(b) for _, members in self.conditions.values() for b in members.values())


class Transport:
    """Packs samples leaving a stage and opens those entering one, with the writer's encoder settings (so the
    condition members are the shard's bytes)."""

    def __init__(self, crf: int, preset: str, threads: int, lean: bool, config: TransportConfig | None = None):
        self.crf, self.preset, self.threads, self.lean = crf, preset, threads, lean
        self.config = config or TransportConfig()

    @classmethod
    def for_writer(cls, writer: Any) -> "Transport":
        """From a WriterConfig (crf, preset, encode_threads, lean, transport)."""
        return cls(writer.crf, writer.preset, writer.encode_threads, writer.lean, writer.transport)

    def _encode_clip(self, frames: Any, fps: float) -> EncodedClip:
        if self.config.clip == "shard":
            return encode_shard_clip(np.asarray(frames), fps, self.crf, self.preset, self.threads)
        return encode_qoi(np.asarray(frames), fps)

    @staticmethod
    def _origin(sample: Sample) -> EncodedClip | None:
        """The EncodedClip the sample's frames came from, when they are still those frames."""
        if isinstance(sample.frames, LazyFrames):
            return sample.frames.clip
        origin = sample.scratch.get(_ORIGIN)
        return origin[1] if origin is not None and origin[0] is sample.frames else None

    def pack(self, sample: Sample) -> PackedSample:
        """Sample → PackedSample: an unchanged clip or condition keeps the bytes it arrived as; new ones are encoded
        (the clip with the transport codec, conditions with the shard's encoders)."""
        meta = dataclasses.replace(sample, frames=None, conditions={}, scratch={})
        if status_of(sample)[0] == REJECTED:  # staged as a manifest row only: its shape and names are all it needs
            shape = None if sample.frames is None else tuple(int(n) for n in sample.frames.shape)
            clip = None if shape is None else EncodedClip(UNSENT, shape, float(sample.fps), ())
            return PackedSample(meta, clip, {name: (UNSENT, {}) for name in sample.conditions})
        clip = None
        if sample.frames is not None:
            clip = self._origin(sample) or self._encode_clip(sample.frames, sample.fps)
        conditions: dict[str, EncodedCondition] = {}
        for name in sample.conditions:
            done = sample.conditions.encoded(name) if isinstance(sample.conditions, Conditions) else None
            if done is None:
                try:
                    done = encode_condition(name, sample.conditions[name], sample.frames, sample.fps, self.crf,
                                            self.preset, self.threads, self.lean)
                except BadInputError as exc:
                    raise BadInputError(f"sample {sample.key}: {exc}") from exc
            conditions[name] = done
        return PackedSample(meta, clip, conditions)

    def open(self, packed: PackedSample, lazy_frames: bool) -> Sample:
        """PackedSample → Sample. Conditions decode when read; the clip is decoded now (read-only ndarray), or on
        demand (`LazyFrames`) when `lazy_frames`."""
        m = packed.meta
        sample = dataclasses.replace(m, conditions={}, scratch={}, tasks=list(m.tasks), rejected=dict(m.rejected),
                                     signals=dict(m.signals))
        if packed.clip is not None:
            lazy = LazyFrames(packed.clip)
            sample.frames = lazy if lazy_frames or packed.clip.codec == UNSENT else lazy.full()
            sample.scratch[_ORIGIN] = (sample.frames, packed.clip)
        sample.conditions = Conditions(packed.conditions, sample)
        return sample

    def shard_item(self, sample: Sample) -> dict[str, bytes | str]:
        """The sample's shard members (sample_to_wds), reusing every member a stage already encoded."""
        origin = self._origin(sample)
        clip_mp4 = origin.blobs[0] if origin is not None and origin.codec == H264 else None
        encoded = {}
        if isinstance(sample.conditions, Conditions):
            encoded = {n: e for n in sample.conditions if (e := sample.conditions.encoded(n)) is not None}
        return sample_to_wds(sample, crf=self.crf, preset=self.preset, threads=self.threads, lean=self.lean,
                             encoded=encoded, clip_mp4=clip_mp4)


def open_payload(payload: Any, transport: Transport) -> Sample:
    """A stage or the writer receives a Sample (passed as an object) or a PackedSample (sent as bytes)."""
    return transport.open(payload, lazy_frames=True) if isinstance(payload, PackedSample) else payload
