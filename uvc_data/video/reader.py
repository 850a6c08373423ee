"""Stream an input's frames once, decoded with threads and scaled to the working size inside the decoder.

Frames come out one at a time as (index, time in seconds from the first frame, RGB at the working size); nothing
holds the whole video. Rotation (display matrix), non-square pixels and the fit policy (crop / pad / stretch) are
applied so frames are in displayed orientation. `VideoReader.frames()` gives the same frames still at source
resolution (`SourceFrame`, with a small detection image made on the decoding thread), converted to the working size
only when asked — the split step converts only the frames its clips keep; the bytes are the same either way.

Damage is handled as FFmpeg's own tools do: a packet the decoder refuses (a corrupt slice) is skipped and decoding goes
on from the next one; frames the decoder conceals are kept. Both are counted (`lost_packets`, `corrupt_frames`) and
logged as a warning. Only when the clean frames fall below `min_decoded_ratio` of the headers' frame count does the
input fail (BadInputError: "damaged" when the decoder reported errors, "truncated" when frames just ran out).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Iterator, Literal

import av
import numpy as np

from uvc_data.configurable import neutral
from uvc_data.errors import BadInputError, ConfigError
from uvc_data.remote import media_source
from uvc_data.video.prefetch import prefetch
from uvc_data.video.probe import SizeLimits, VideoInfo, probe

log = logging.getLogger("uvc_data.video")

Fit = Literal["crop", "pad", "stretch"]
INTERPOLATIONS = ("area", "bilinear", "bicubic", "fast_bilinear", "lanczos")


@dataclass
class DecodeConfig:
    """How inputs are decoded. width/height: the working size (even, for H.264 yuv420p shards)."""

    width: int = 832
    height: int = 480
    fit: Fit = "crop"  # crop: scale to cover, centre-crop; pad: scale to fit, black bars; stretch: ignore aspect
    threads: int = neutral("FFmpeg decodes the same frames with any thread count", default=0)  # 0 = FFmpeg picks
    interpolation: str = "area"  # swscale filter for the downscale: area | bilinear | bicubic | fast_bilinear | lanczos
    min_src_side: int = 16  # smaller sources are rejected (BadInputError)
    max_src_pixels: int = 8192 * 4352  # larger sources are rejected (BadInputError)
    # frames decoded ahead on a background thread (overlaps decoding with the rest); 0 = off
    prefetch_frames: int = neutral("how far the decoder runs ahead: the same frames either way", default=64)
    # the split step's look-ahead holds source-resolution frames (converted later): at most this many MiB of them
    prefetch_mb: int = neutral("how far the decoder runs ahead: the same frames either way", default=256)
    # clean frames (decoded and not concealed) / header frame count below this = damaged or truncated (BadInputError);
    # concealed frames and refused packets above it are kept, counted and logged, as FFmpeg decodes past them
    min_decoded_ratio: float = 0.9

    def validate(self) -> None:
        for name in ("width", "height"):
            v = getattr(self, name)
            if v < 2 or v % 2:
                raise ConfigError(f"decode.{name}", f"{v} must be an even number ≥ 2 (H.264 yuv420p needs even sizes)")
        if self.fit not in ("crop", "pad", "stretch"):
            raise ConfigError("decode.fit", f"{self.fit!r} is not one of crop, pad, stretch")
        if self.prefetch_mb < 1:
            raise ConfigError("decode.prefetch_mb", f"{self.prefetch_mb} must be ≥ 1 MiB")
        if self.prefetch_frames < 0:
            raise ConfigError("decode.prefetch_frames", f"{self.prefetch_frames} must be ≥ 0 (0 = off)")
        if self.threads < 0:
            raise ConfigError("decode.threads", f"{self.threads} must be ≥ 0 (0 = automatic)")
        if self.interpolation not in INTERPOLATIONS:
            raise ConfigError("decode.interpolation", f"{self.interpolation!r} is not one of {list(INTERPOLATIONS)}")
        if self.min_src_side < 1:
            raise ConfigError("decode.min_src_side", f"{self.min_src_side} must be ≥ 1")
        if self.max_src_pixels < self.min_src_side ** 2:
            raise ConfigError("decode.max_src_pixels", f"{self.max_src_pixels} is below min_src_side² ")
        if not 0.0 <= self.min_decoded_ratio <= 1.0:
            raise ConfigError("decode.min_decoded_ratio", f"{self.min_decoded_ratio} must be in [0, 1]")

    @property
    def limits(self) -> SizeLimits:
        return SizeLimits(min_side=self.min_src_side, max_pixels=self.max_src_pixels)


@dataclass(frozen=True)
class Geometry:
    """How one coded frame becomes a working frame: scale (in coded orientation), rotate, then crop or pad."""

    scale_w: int  # reformat size, coded orientation
    scale_h: int
    quarter_turns: int  # np.rot90 k (counter-clockwise) applied after scaling
    crop: tuple[int, int, int, int]  # (top, left, height, width) in the rotated scaled frame
    pad: tuple[int, int]  # (top, left) offsets of the scaled frame on the black working canvas
    out_w: int
    out_h: int
    display_w: int  # source size as displayed (rotation and pixel aspect applied)
    display_h: int


def quarter_turns(rotation: float) -> int:
    """Display-matrix rotation (degrees counter-clockwise, FFmpeg convention) → np.rot90 k in 0..3."""
    return int(round(rotation / 90.0)) % 4


def plan_geometry(coded_w: int, coded_h: int, sample_aspect: float, rotation: float, cfg: DecodeConfig) -> Geometry:
    """Pure geometry: the reformat size and crop/pad that map a coded frame onto the cfg.width × cfg.height canvas."""
    k = quarter_turns(rotation)
    disp_w = max(1, int(round(coded_w * (sample_aspect or 1.0))))
    disp_h = coded_h
    if k % 2:
        disp_w, disp_h = disp_h, disp_w
    out_w, out_h = cfg.width, cfg.height
    if cfg.fit == "stretch":
        sw, sh = out_w, out_h
    else:
        pick = max if cfg.fit == "crop" else min
        s = pick(out_w / disp_w, out_h / disp_h)
        sw, sh = (max(out_w, math.ceil(disp_w * s - 1e-6)), max(out_h, math.ceil(disp_h * s - 1e-6))) \
            if cfg.fit == "crop" else (min(out_w, max(1, round(disp_w * s))), min(out_h, max(1, round(disp_h * s))))
    crop = ((sh - out_h) // 2, (sw - out_w) // 2, out_h, out_w) if cfg.fit == "crop" else (0, 0, sh, sw)
    pad = ((out_h - sh) // 2, (out_w - sw) // 2) if cfg.fit == "pad" else (0, 0)
    # the reformat happens before rotation: swap back to coded orientation
    scale_w, scale_h = (sh, sw) if k % 2 else (sw, sh)
    return Geometry(scale_w, scale_h, k, crop, pad, out_w, out_h, disp_w, disp_h)


def apply_geometry(scaled: np.ndarray, geom: Geometry) -> np.ndarray:
    """(scale_h, scale_w, 3) scaled frame → (out_h, out_w, 3) working frame (rotate, then crop or pad)."""
    img = np.rot90(scaled, k=geom.quarter_turns) if geom.quarter_turns else scaled
    top, left, h, w = geom.crop
    img = img[top:top + h, left:left + w]
    if img.shape[:2] != (geom.out_h, geom.out_w):
        canvas = np.zeros((geom.out_h, geom.out_w, 3), np.uint8)
        pt, pl = geom.pad
        canvas[pt:pt + img.shape[0], pl:pl + img.shape[1]] = img
        return canvas
    return np.ascontiguousarray(img)


@dataclass
class DecodedFrame:
    index: int  # decode order position among kept frames
    time_s: float  # presentation time, seconds from the first frame
    rgb: np.ndarray  # (out_h, out_w, 3) uint8
    duration_s: float | None = None  # the frame's own duration when the container stores it


def convert_frame(frame: av.VideoFrame, geom: Geometry, interpolation: str) -> np.ndarray:
    """A decoded source frame → its (out_h, out_w, 3) RGB working frame: one swscale call (colour conversion and
    resize together), then rotation and crop/pad."""
    scaled = frame.to_ndarray(width=geom.scale_w, height=geom.scale_h, format="rgb24", interpolation=interpolation)
    return apply_geometry(scaled, geom)


def small_image(frame: av.VideoFrame, width: int, fmt: Literal["gray", "bgr24"] = "gray") -> np.ndarray:
    """A decoded frame shrunk (area filter) to `width` columns, in coded orientation: (h, width) luma for "gray"
    (the Y plane only: no colour conversion), (h, width, 3) for "bgr24". Never upscaled."""
    w = min(width, frame.width)
    h = max(1, int(round(frame.height * w / frame.width)))
    return frame.reformat(width=w, height=h, format=fmt, interpolation="AREA").to_ndarray()


def source_bytes(info: VideoInfo) -> int:
    """Bytes one decoded frame of `info` holds (its planes as the decoder allocates them; 1.5 per pixel — 8-bit
    4:2:0 — when the pixel format is unknown)."""
    try:
        return sum(p.buffer_size for p in av.VideoFrame(info.width, info.height, info.pix_fmt).planes)
    except (ValueError, TypeError, av.FFmpegError):
        return int(info.width * info.height * 1.5)


class SourceFrame:
    """One decoded frame kept at source resolution: its time, a small detection image made when it was decoded,
    and its working-size RGB made only when `rgb()` is first called (then the source picture is released).

    The split step hands these to the shot detector and the clipper, so that only frames a clip keeps are converted.
    """

    __slots__ = ("index", "time_s", "duration_s", "detect", "_frame", "_rgb", "_reader")

    def __init__(self, reader: VideoReader, frame: av.VideoFrame, index: int, time_s: float,
                 duration_s: float | None, detect: np.ndarray | None):
        self.index, self.time_s, self.duration_s, self.detect = index, time_s, duration_s, detect
        self._frame: av.VideoFrame | None = frame
        self._rgb: np.ndarray | None = None
        self._reader = reader

    @property
    def converted(self) -> bool:
        return self._rgb is not None

    @property
    def held_bytes(self) -> int:
        """Bytes of the source picture still held (0 once converted)."""
        return 0 if self._frame is None else self._reader.source_frame_bytes

    def rgb(self) -> np.ndarray:
        """(out_h, out_w, 3) uint8 working frame, converted once."""
        if self._rgb is None:
            assert self._frame is not None
            self._rgb = self._reader.convert(self._frame, self.index)
            self._frame = None
        return self._rgb


class VideoReader:
    """Iterate one input's frames at the working size. Probes on construction (BadInputError when unusable).

    Iterating gives DecodedFrames converted on the decoding thread; `frames()` gives SourceFrames converted on
    demand. After the first frame, `geometry` and `rotation` are known; after iteration, `frames_decoded`,
    `frames_converted`, `corrupt_frames` (concealed by the decoder, kept), `lost_packets` (refused by the decoder,
    skipped) and `dropped_frames` (non-increasing timestamps) describe what happened.
    """

    def __init__(self, path: str, cfg: DecodeConfig, info: VideoInfo | None = None):
        self.path = str(path)
        self.cfg = cfg
        self.info = info or probe(self.path, cfg.limits)
        self.geometry: Geometry | None = None
        self.rotation = 0
        self.frames_decoded = 0
        self.frames_converted = 0
        self.corrupt_frames = 0
        self.lost_packets = 0
        self.dropped_frames = 0
        self.source_frame_bytes = source_bytes(self.info)
        self._interp = cfg.interpolation.upper()

    def _where(self, index: int, time_s: float | None) -> str:
        when = f", t≈{time_s:.2f}s" if time_s is not None else ""
        return f"{self.path}: frame {index}{when}"

    def __iter__(self) -> Iterator[DecodedFrame]:
        def converted() -> Iterator[DecodedFrame]:
            for frame, index, time_s, dur in self._decode():
                yield DecodedFrame(index, time_s, self.convert(frame, index), dur)

        return prefetch(converted, self.cfg.prefetch_frames)

    def frames(self, detect: Callable[[av.VideoFrame], np.ndarray] | None = None) -> Iterator[SourceFrame]:
        """SourceFrames, decoded ahead on a background thread; `detect(frame)` (e.g. `small_image`) runs there.

        The look-ahead holds source-resolution pictures, so it is `decode.prefetch_frames` frames or
        `decode.prefetch_mb` MiB of them, whichever is fewer (at least 2 when prefetching is on).
        """
        def source() -> Iterator[SourceFrame]:
            for frame, index, time_s, dur in self._decode():
                yield SourceFrame(self, frame, index, time_s, dur, detect(frame) if detect is not None else None)

        ahead = self.cfg.prefetch_frames
        if ahead:
            ahead = max(2, min(ahead, (self.cfg.prefetch_mb << 20) // max(1, self.source_frame_bytes)))
        return prefetch(source, ahead)

    def convert(self, frame: av.VideoFrame, index: int) -> np.ndarray:
        """The working frame of decoded frame `index` (counted in `frames_converted`)."""
        assert self.geometry is not None  # planned from the first decoded frame
        try:
            rgb = convert_frame(frame, self.geometry, self._interp)
        except (av.FFmpegError, ValueError) as exc:
            raise BadInputError(f"{self._where(index, None)}: converting to the working size failed "
                                f"({type(exc).__name__}: {exc}): the file is damaged") from exc
        self.frames_converted += 1
        return rgb

    def _decode(self) -> Iterator[tuple[av.VideoFrame, int, float, float | None]]:
        """(frame, index, time_s, duration_s) of every kept frame, in order, at source resolution."""
        t_first: float | None = None
        t_prev = -math.inf
        time_s: float | None = None
        try:
            with media_source(self.path) as src, av.open(src, metadata_errors="ignore") as container:
                stream = next(s for s in container.streams.video
                              if not s.disposition & av.stream.Disposition.attached_pic)
                stream.thread_type = "AUTO"
                stream.codec_context.thread_count = self.cfg.threads
                fallback_dt = 1.0 / self.info.fps if self.info.fps > 0 else 1.0 / 30.0
                for frame in self._frames(container, stream):
                    self.corrupt_frames += bool(frame.is_corrupt)
                    raw_t = frame.time
                    if raw_t is None:
                        raw_t = (t_prev + fallback_dt) if t_first is not None and t_prev > -math.inf else 0.0
                        raw_t = raw_t + (t_first or 0.0)
                    if t_first is None:
                        t_first = raw_t
                    time_s = raw_t - t_first
                    if time_s <= t_prev:
                        self.dropped_frames += 1  # a repeated or backwards timestamp: not a new picture in time
                        continue
                    t_prev = time_s
                    if self.geometry is None:
                        self.rotation = int(frame.rotation)
                        self.geometry = plan_geometry(frame.width, frame.height, self.info.sample_aspect,
                                                      self.rotation, self.cfg)
                    dur = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else None
                    yield frame, self.frames_decoded, time_s, dur
                    self.frames_decoded += 1
        except BadInputError:
            raise
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise BadInputError(f"{self._where(self.frames_decoded, time_s)}: decoding failed "
                                f"({type(exc).__name__}: {exc}): the file is damaged") from exc
        self._check_complete()

    def _frames(self, container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
        """Decoded frames, packet by packet: a packet the decoder refuses (InvalidDataError) is counted and skipped,
        as FFmpeg's CLI does; demuxing errors still end the input."""
        for packet in container.demux(stream):
            try:
                frames = stream.decode(packet)
            except av.InvalidDataError:
                self.lost_packets += 1
                continue
            yield from frames

    def _check_complete(self) -> None:
        n = self.frames_decoded
        if n == 0:
            raise BadInputError(f"{self.path}: no decodable video frames: the file is empty or damaged")
        expected = self.info.num_frames
        clean = n - self.corrupt_frames
        damage = f"{self.corrupt_frames} concealed frames, {self.lost_packets} packets the decoder refused"
        if expected and clean < self.cfg.min_decoded_ratio * expected:
            if self.corrupt_frames or self.lost_packets:
                raise BadInputError(f"{self.path}: damaged: only {clean} of the {expected} frames its headers list "
                                    f"decode cleanly ({damage}; below decode.min_decoded_ratio="
                                    f"{self.cfg.min_decoded_ratio}): re-download or re-encode the file")
            raise BadInputError(f"{self.path}: truncated: decoded {n} of the {expected} frames its headers list "
                                f"(below decode.min_decoded_ratio={self.cfg.min_decoded_ratio}): re-download the file")
        if self.corrupt_frames or self.lost_packets:
            log.warning("%s: decoded past damage (%s), %d of %d frames clean", self.path, damage, clean,
                        expected or n)
