"""Training data: shards (or in-memory Samples, or prompts) → batches of text embeddings, VACE context and real latents.

Streams are deterministic and resumable: the position (epoch, index) is the whole state; the task of each batch is
drawn from a generator seeded by (seed, epoch, index), so a resumed run sees exactly the batches a straight run would.
Each epoch visits every sample once in an order drawn from (seed, epoch): by default a permutation of all the samples
of all the shards (`shuffle="samples"`: the tar headers of every shard are read once, uvc_data.shard_index, and only
the chosen samples' bytes are read), or (`shuffle="shards"`) the shards in a shuffled order with their samples in file
order. Under torchrun the epoch's order is dealt out in rounds: rank r takes sample r of every full round of `world`
samples and reads only those bytes; every rank gets the same count per epoch, so the position is the same on all
ranks and a checkpoint taken at one world size resumes at another. Batches are formed from consecutive samples; one task is drawn per batch from the tasks every sample in it serves
(T2V when they share none). Official batch size: 1 per GPU.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch

from uvc_data.errors import BadInputError, ConfigError
from uvc_data.resize import read_keys, resize_sample
from uvc_data.sample import Sample
from uvc_data.vcu import VCU, build_vcu, to_unit
from uvc_data.video.prefetch import prefetch
from vdot_train.models.codecs import LatentCodec
from vdot_train.models.text_encoder import TextEncoder
from vdot_train.models.vace_context import build_context, encode_target, latent_shape
from vdot_train.trainer.config import DataConfig


@dataclass
class TrainBatch:
    prompts: list[str]
    tasks: list[str]
    text_emb: torch.Tensor  # [B, L, D]
    context: torch.Tensor | None  # [B, Cc, l+T', H', W'] (VACE) or None (T2V)
    real: torch.Tensor | None  # [B, C, l+T', H', W'] real latents, None for prompt-only data
    shape: tuple[int, ...]  # latent shape [B, C, l+T', H', W'] to generate
    num_refs: int = 0


class SampleStream:
    """Samples from shards or an in-memory list, epoch after epoch; `position` = (epoch, index within the epoch)."""

    def __init__(self, shards: Sequence[str] = (), samples: Sequence[Sample] | None = None, seed: int = 0,
                 rank: int = 0, world: int = 1, exclude: set[str] | frozenset[str] = frozenset(), prefetch: int = 0,
                 shuffle: str = "samples", captions: dict[str, str] | None = None, side=None):
        if samples is None and not shards:
            raise ConfigError("data.shards", "no training data: give WebDataset shards")
        if shuffle not in ("samples", "shards"):
            raise ConfigError("data.shuffle", f"must be 'samples' or 'shards', got {shuffle!r}")
        self.shuffle = shuffle
        self.captions = captions or {}  # key → prompt from a recaption side table (uvc_data.shards.read_captions)
        self.side = side  # uvc_data.side_tables.SideTables applied over each sample's json (its rejects: in exclude)
        self.exclude = frozenset(exclude)  # held-out keys (a bench suite's holdout.txt): never trained on
        self.prefetch = prefetch  # samples read and decoded ahead on a background thread (0 = in the caller)
        self.samples = [s for s in samples if s.key not in self.exclude] if samples is not None else None
        self.shards: list[str] = []
        if self.samples is None:
            from uvc_data.shards import shard_paths

            self.shards = shard_paths(list(shards))
        self.seed, self.rank, self.world = seed, rank, world
        self.epoch, self.index = 0, 0  # index counts this rank's samples (equal on every rank)
        self._it: Iterator[Sample] | None = None
        self._index: dict[str, list] = {}  # shard → its sample entries (tar headers), read once

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "index": self.index, "world": self.world}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resume at the saved position. Saved at another world size, the epoch's first index·world_saved samples
        count as seen and this rank continues at index·world_saved // world (at most world − 1 samples are seen twice)."""
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
        saved_world = int(state.get("world", self.world))
        if saved_world != self.world:
            self.index = self.index * saved_world // self.world
        self._reset()

    def _reset(self) -> None:
        if self._it is not None:
            self._it.close()  # stops a prefetching thread
        self._it = None

    def _epoch_iter(self, skip: int) -> Iterator[Sample]:
        rng = np.random.default_rng([self.seed, self.epoch])
        if self.samples is not None:
            order = rng.permutation(len(self.samples))
            order = order[: len(order) // self.world * self.world][self.rank:: self.world]  # equal share per rank
            for i in order[skip:]:
                yield self.samples[int(i)]
            return
        from uvc_data.shard_index import read_sample
        from uvc_data.shards import sample_from_wds

        # the epoch's samples in order form rounds of `world`; this rank reads only sample [rank] of each full round
        # (tar headers of the others are walked, their bytes never read); a final partial round is dropped so every
        # rank has the same count, and `index` counts rounds: equal on every rank
        if self.shuffle == "samples":
            entries = [e for path in self.shards for e in self._entries(path)]
            order = rng.permutation(len(entries))
            full = len(order) // self.world * self.world
            for i in order[:full][self.rank:: self.world][skip:]:
                yield self._captioned(sample_from_wds(read_sample(*entries[int(i)])))
            return
        rounds, current = 0, []
        for s in rng.permutation(len(self.shards)):
            for item in self._entries(self.shards[int(s)]):
                current.append(item)
                if len(current) < self.world:
                    continue
                if rounds >= skip:
                    yield self._captioned(sample_from_wds(read_sample(*current[self.rank])))
                rounds += 1
                current = []

    def _captioned(self, sample: Sample) -> Sample:
        if sample.key in self.captions:
            sample.prompt = self.captions[sample.key]
        if self.side:
            self.side.apply_sample(sample)  # the keys the tables reject are excluded when the shards are indexed
        return sample

    def _entries(self, path: str) -> list:
        """(path, entry) of a shard's samples in file order, held-out keys left out (its tar headers read once)."""
        from uvc_data.shard_index import index_shard

        if path not in self._index:
            self._index[path] = index_shard(path)
        return [(path, e) for e in self._index[path] if e.key not in self.exclude]

    def next(self) -> Sample:
        for _ in range(2):
            if self._it is None:
                # the position counts consumed samples, so what was prefetched but not consumed is read again on resume
                self._it = prefetch(lambda skip=self.index: self._epoch_iter(skip), self.prefetch)
            try:
                sample = next(self._it)
                self.index += 1
                return sample
            except StopIteration:
                if self.index == 0:
                    why = (f" ({len(self.exclude)} keys are excluded by data.exclude_keys_file: is every sample held out?)"
                           if self.exclude else "")
                    raise BadInputError(f"the training data holds no samples{why}") from None
                self._reset()
                self.epoch, self.index = self.epoch + 1, 0
        raise BadInputError("the training data holds no samples")


class PromptStream:
    """Prompt-only data (phase 1): one prompt per line of a text file, shuffled per epoch."""

    def __init__(self, prompts: Sequence[str], seed: int = 0, rank: int = 0, world: int = 1):
        self.prompts = [p.strip() for p in prompts if p.strip()]
        if len(self.prompts) < world:
            raise ConfigError("data.prompts_file", f"holds {len(self.prompts)} prompts; need at least one per rank")
        self.seed, self.rank, self.world = seed, rank, world
        self.epoch, self.index = 0, 0

    @classmethod
    def from_file(cls, path: str | Path, seed: int = 0, rank: int = 0, world: int = 1) -> "PromptStream":
        p = Path(path)
        if not p.is_file():
            raise ConfigError("data.prompts_file", f"{p} does not exist")
        return cls(p.read_text(encoding="utf-8").splitlines(), seed, rank, world)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "index": self.index, "world": self.world}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
        saved_world = int(state.get("world", self.world))
        if saved_world != self.world:  # the same global position at another world size (as SampleStream)
            self.index = self.index * saved_world // self.world

    def next(self) -> str:
        share = len(self.prompts) // self.world
        if self.index >= share:
            self.epoch, self.index = self.epoch + 1, 0
        order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.prompts))
        order = order[: share * self.world][self.rank:: self.world]
        prompt = self.prompts[int(order[self.index])]
        self.index += 1
        return prompt


def choose_task(samples: Sequence[Sample], allowed: Sequence[str], rng: np.random.Generator) -> str:
    common = set(samples[0].tasks)
    for s in samples[1:]:
        common &= set(s.tasks)
    if allowed:
        common &= set(allowed)
    options = sorted(common) or ["t2v"]
    return options[int(rng.integers(len(options)))]


class BatchBuilder:
    """Turns samples / prompts into TrainBatch tensors with the codec and text encoder (frozen, no grad)."""

    def __init__(self, codec: LatentCodec, text_encoder: TextEncoder, cfg: DataConfig, model_kind: str,
                 device: torch.device | str = "cpu"):
        self.codec, self.text_encoder, self.cfg = codec, text_encoder, cfg
        self.kind, self.device = model_kind, device

    def _text(self, prompts: list[str]) -> torch.Tensor:
        return self.text_encoder.encode(prompts).to(self.device)

    def from_samples(self, samples: Sequence[Sample], rng: np.random.Generator) -> TrainBatch:
        c = self.cfg
        if c.resize:
            samples = [resize_sample(s, c.num_frames, c.height, c.width) for s in samples]
        task = choose_task(samples, self.cfg.tasks, rng) if self.kind == "vace" else "t2v"
        vcus = [build_vcu(task, s.prompt, s.frames, s.conditions) for s in samples]
        clips = np.stack([to_unit(s.frames) for s in samples])  # [B, T, H, W, 3]
        real = encode_target(self.codec, clips, vcus, self.device)
        ctx = build_context(self.codec, vcus, self.device) if self.kind == "vace" else None
        prompts = [s.prompt for s in samples]
        return TrainBatch(prompts, [task] * len(samples), self._text(prompts), ctx, real, tuple(real.shape),
                          len(vcus[0].refs))

    def from_prompts(self, prompts: list[str]) -> TrainBatch:
        c = self.cfg
        vcu = VCU(prompt="", frames=np.zeros((c.num_frames, c.height, c.width, 3), np.float32),
                  masks=np.ones((c.num_frames, c.height, c.width), np.float32))
        shape = (len(prompts), *latent_shape(self.codec, vcu))
        ctx = None
        if self.kind == "vace":
            ctx = build_context(self.codec, [vcu], self.device).expand(len(prompts), -1, -1, -1, -1)
        return TrainBatch(list(prompts), ["t2v"] * len(prompts), self._text(list(prompts)), ctx, None, shape)


class TrainData:
    """The trainer's data: `next_batch()` and a resumable state."""

    def __init__(self, builder: BatchBuilder, cfg: DataConfig, samples: Sequence[Sample] | None = None,
                 rank: int = 0, world: int = 1):
        self.builder, self.cfg = builder, cfg
        self.samples: SampleStream | None = None
        self.prompts: PromptStream | None = None
        if samples is not None or cfg.shards:
            exclude = read_keys(cfg.exclude_keys_file) if cfg.exclude_keys_file else set()
            captions = None
            if cfg.captions_file:
                from uvc_data.shards import read_captions

                captions = read_captions(cfg.captions_file)
            side = None
            if cfg.shards and cfg.side_tables != []:
                from uvc_data.side_tables import SideTables

                side = SideTables.load(cfg.side_tables) if cfg.side_tables else SideTables.beside(cfg.shards)
                exclude = set(exclude) | side.rejected_keys()
            self.samples = SampleStream(cfg.shards, samples, cfg.seed, rank, world, exclude, cfg.prefetch, cfg.shuffle,
                                        captions, side)
        else:
            self.prompts = PromptStream.from_file(cfg.prompts_file, cfg.seed, rank, world)
        self.batches = 0

    @property
    def has_real(self) -> bool:
        return self.samples is not None

    def next_batch(self) -> TrainBatch:
        rng = np.random.default_rng([self.cfg.seed, 7, self.batches])
        self.batches += 1
        if self.samples is not None:
            return self.builder.from_samples([self.samples.next() for _ in range(self.cfg.batch_size)], rng)
        assert self.prompts is not None
        return self.builder.from_prompts([self.prompts.next() for _ in range(self.cfg.batch_size)])

    def state_dict(self) -> dict:
        src = self.samples if self.samples is not None else self.prompts
        return {"batches": self.batches, "source": src.state_dict()}  # type: ignore[union-attr]

    def load_state_dict(self, state: dict) -> None:
        self.batches = int(state["batches"])
        src = self.samples if self.samples is not None else self.prompts
        src.load_state_dict(state["source"])  # type: ignore[union-attr]
