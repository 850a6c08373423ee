"""DecodeSplit: VideoInput → clip Samples. Probe and decode each input once, detect shots, cut clip windows.

One pass per input: the threaded PyAV decoder yields frames at source resolution, each with a small luma image
(the Y plane shrunk to `shots.detect_width`, made on the decoding thread). The luma image goes to the shot detector;
the frame, once the detector can no longer place a cut before it (its lag), goes to the current shot's clipper, which
resamples to the target fps by timestamps and emits each clip as soon as the shot is known to run `trim_s` past it.

Only then are the clip's frames converted (colour conversion + resize to the working size, one swscale call each):
frames between clips, frames the fps resampling skips, and frames of shots too short for a clip are never converted.
The frames picked for a pending clip are held at source resolution up to `max_unconverted_mb`; past it the oldest
are converted early (they may then belong to a clip that is never emitted: counted in `frames_converted_early`).
Memory holds one pending clip plus margins, whatever the input length.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import Iterable, Iterator, Literal

from uvc_data.clips import ClipConfig, ClipWindow, ShotClipper, buffer_bound
from uvc_data.configurable import neutral, validate
from uvc_data.errors import BadInputError, ConfigError
from uvc_data.sample import Provenance, Sample, VideoInput
from uvc_data.shots import ShotConfig, ShotStream
from uvc_data.steps.base import Step
from uvc_data.video.reader import DecodeConfig, SourceFrame, VideoReader, small_image


@dataclass
class SplitConfig:
    """Stages 1–3 of a build: decode, shots, clips. on_bad_input: raise (the executor records it) or skip here."""

    decode: DecodeConfig = field(default_factory=DecodeConfig)
    shots: ShotConfig = field(default_factory=ShotConfig)
    clips: ClipConfig = field(default_factory=ClipConfig)
    on_bad_input: Literal["raise", "skip"] = "raise"
    # source-resolution frames held unconverted for the pending clip (MiB); past it the oldest are converted early
    # (at 4K, 8-bit 4:2:0: 12.4 MB a frame, so 512 MiB holds 43 frames); 0 = convert each frame as soon as picked
    max_unconverted_mb: int = neutral("when a frame is converted, not how: the same bytes either way", default=512)

    def validate(self) -> None:
        if self.on_bad_input not in ("raise", "skip"):
            raise ConfigError("on_bad_input", f"{self.on_bad_input!r} is not one of raise, skip")
        if self.max_unconverted_mb < 0:
            raise ConfigError("max_unconverted_mb", f"{self.max_unconverted_mb} must be ≥ 0 MiB (0 = convert at once)")


def sample_key(source_id: str, clip: int) -> str:
    """f"{source_id}-{clip:04d}", with dots replaced (WebDataset splits member names at dots)."""
    return f"{source_id.replace('.', '_')}-{clip:04d}"


class _InputSplitter:
    """The state of splitting one input: reader, detector, look-back of frames the detector may still cut before."""

    def __init__(self, item: VideoInput, cfg: SplitConfig, step: DecodeSplit):
        self.item, self.cfg, self.step = item, cfg, step
        self.reader = VideoReader(item.path, cfg.decode)  # probes: BadInputError when unusable
        self.detector = ShotStream(cfg.shots, self.reader.info.fps)
        self.lookback: deque[SourceFrame] = deque()
        self.shot = 0
        self.clip = 0
        edge_trim = cfg.clips.trim_s if cfg.clips.trim_file_ends else 0.0
        self.clipper = self._clipper(0, 0.0, edge_trim)
        self.max_gap_s = 0.0
        self.hold_bytes = cfg.max_unconverted_mb << 20

    def _clipper(self, shot: int, start_s: float, trim_start_s: float) -> ShotClipper:
        return ShotClipper(self.cfg.clips, shot, start_s, trim_start_s, materialize=SourceFrame.rgb)

    def _sample(self, w: ClipWindow) -> Sample:
        info, geom = self.reader.info, self.reader.geometry
        assert geom is not None  # a clip exists only after frames were decoded
        prov = Provenance(
            source=self.item.path, source_id=self.item.source_id, shot=w.shot, clip=self.clip,
            start_s=round(w.start_s, 6), end_s=round(w.end_s, 6), src_fps=info.fps,
            src_width=geom.display_w, src_height=geom.display_h, rotation=self.reader.rotation,
            input_index=self.item.index,
        )
        sample = Sample(key=sample_key(self.item.source_id, self.clip), frames=w.frames, fps=self.cfg.clips.fps,
                        provenance=prov)
        sample.signals.update(shot_len_s=round(w.shot_len_s, 6), shot_start_s=round(w.shot_start_s, 6),
                              shot_closed=float(w.shot_closed), dup_ratio=w.dup_ratio)
        self.clip += 1
        return sample

    def _emit(self, windows: list[ClipWindow]) -> Iterator[Sample]:
        for w in windows:
            yield self._sample(w)

    def _feed(self, frame: SourceFrame) -> Iterator[Sample]:
        yield from self._emit(self.clipper.push(frame.index, frame.time_s, frame))
        self._limit_unconverted()

    def _limit_unconverted(self) -> None:
        """Convert the oldest picked frames while those still at source resolution exceed max_unconverted_mb."""
        picked = list(dict.fromkeys(self.clipper.picked()))  # distinct frames, oldest first
        held = sum(f.held_bytes for f in picked)
        for f in picked:
            if held <= self.hold_bytes:
                return
            if not f.converted:
                held -= f.held_bytes
                f.rgb()
                self.step.stats["frames_converted_early"] += 1

    def _cut(self, position: int) -> Iterator[Sample]:
        """Close the current shot at frame `position` and open the next one."""
        stats = self.step.stats
        if not self.lookback or position < self.lookback[0].index:
            stats["late_cuts"] += 1  # the detector reported later than its declared lag: cut at the oldest frame held
            if not self.lookback:
                return
            position = self.lookback[0].index
        while self.lookback and self.lookback[0].index < position:
            yield from self._feed(self.lookback.popleft())
        t_cut = self.lookback[0].time_s
        yield from self._close(t_cut, self.cfg.clips.trim_s)
        self.shot += 1
        stats["cuts"] += 1
        self.clipper = self._clipper(self.shot, t_cut, self.cfg.clips.trim_s)

    def _close(self, end_s: float, trim_end_s: float) -> Iterator[Sample]:
        before = self.clip
        yield from self._emit(self.clipper.close(end_s, trim_end_s))
        self.step.stats["shots"] += 1
        if self.clip == before and self.clipper.next_clip == 0:
            self.step.stats["shots_without_clips"] += 1

    def run(self) -> Iterator[Sample]:
        lag = self.detector.lag
        last: SourceFrame | None = None
        shots = self.cfg.shots
        for frame in self.reader.frames(partial(small_image, width=shots.detect_width, fmt=shots.image_format)):
            if last is not None:
                self.max_gap_s = max(self.max_gap_s, frame.time_s - last.time_s)
            last = frame
            cuts = self.detector.push(frame.detect)
            self.lookback.append(frame)
            self._track_buffer()
            for position in cuts:
                yield from self._cut(position)
            while len(self.lookback) > lag:
                yield from self._feed(self.lookback.popleft())
        if self.reader.frames_decoded < 2:
            raise BadInputError(f"{self.item.path}: only {self.reader.frames_decoded} decodable frame: a still "
                                "image, not a video (remove it from the inputs)")
        for position in self.detector.finish():
            yield from self._cut(position)
        while self.lookback:
            yield from self._feed(self.lookback.popleft())
        assert last is not None
        end_s = last.time_s + (last.duration_s or self.max_gap_s or 1.0 / max(self.reader.info.fps, 1.0))
        yield from self._close(end_s, self.cfg.clips.trim_s if self.cfg.clips.trim_file_ends else 0.0)
        stats = self.step.stats
        stats["frames_decoded"] += self.reader.frames_decoded
        stats["frames_converted"] += self.reader.frames_converted
        stats["frames_dropped"] += self.reader.dropped_frames
        stats["corrupt_frames"] += self.reader.corrupt_frames
        stats["lost_packets"] += self.reader.lost_packets
        stats["damaged_inputs"] += bool(self.reader.corrupt_frames or self.reader.lost_packets)
        self.step.last_bound = buffer_bound(self.cfg.clips, lag, self.max_gap_s)

    def _track_buffer(self) -> None:
        held = len(self.lookback) + self.clipper.buffered
        if held > self.step.buffer_peak:
            self.step.buffer_peak = held
            self.step.stats["buffer_peak_frames"] = held


class DecodeSplit(Step):
    """VideoInput → Samples of (T, H, W, 3) uint8 clips at the working size and target fps; tasks left empty.

    stats: inputs, clips, shots, cuts, shots_without_clips, frames_decoded, frames_converted (to the working size:
    only frames an emitted clip uses, plus frames_converted_early), frames_dropped, corrupt_frames (concealed, kept),
    lost_packets (refused by the decoder, skipped), damaged_inputs (inputs decoded past damage), bad_inputs,
    late_cuts, buffer_peak_frames (the most frames — source-resolution or converted — held at once by this worker,
    the decoder's look-ahead not counted).
    """

    name = "decode_split"

    def __init__(self, config: SplitConfig | None = None):
        super().__init__()
        self.config = validate(config or SplitConfig())
        self.buffer_peak = 0
        self.last_bound = 0  # buffer_bound() for the last finished input (its lag and largest frame gap)
        self.failures: list[tuple[str, str]] = []  # (path, reason) of inputs skipped with on_bad_input="skip"

    def split(self, item: VideoInput) -> Iterator[Sample]:
        """The clips of one input. Raises BadInputError when the input is unusable (after any clips already
        complete before a mid-stream failure, which are valid)."""
        import time

        self.stats["inputs"] += 1
        clips = self._clips(item)
        while True:
            t0 = time.perf_counter()
            try:
                sample = next(clips)
            except StopIteration:
                return
            except BadInputError:
                self.stats["bad_inputs"] += 1
                raise
            finally:
                self.seconds += time.perf_counter() - t0
            self.stats["clips"] += 1
            yield sample

    def _clips(self, item: VideoInput) -> Iterator[Sample]:
        yield from _InputSplitter(item, self.config, self).run()  # built lazily: probing errors surface in next()

    def run(self, data: Iterable[VideoInput]) -> Iterator[Sample]:
        for item in data:
            if self.config.on_bad_input == "raise":
                yield from self.split(item)
                continue
            try:
                yield from self.split(item)
            except BadInputError as exc:
                self.failures.append((item.path, str(exc)))
