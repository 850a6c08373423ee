"""`uvc bench ...`: build-suite, generate, score, run (generate + score), normalize, weights, tasks, models.

Heavy imports happen inside the command functions so `uvc --help` stays fast. See docs/uvcbench_usage.md.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from uvc_cli.listing import add_json_flag, emit


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _common_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suite", required=True, help="suite folder (indices/*.txt), built or the official download")
    p.add_argument("--tasks", default="", help="comma-separated tasks (official spellings accepted); default all")
    p.add_argument("--limit", type=int, default=0, help="at most N cases per subtask (0 = all)")


def _generation_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="baseline", help="baseline | diffusers | vdot | folder | command")
    p.add_argument("--name", default="", help="the model's name in results and on the leaderboard (default: --model)")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="a model setting (repeatable), e.g. --set path=DIR --set steps=4 (also written model.steps=4); "
                        "generate.FIELD=VALUE and score.FIELD=VALUE set any field of the generation and scoring "
                        "configs, over the flags, e.g. --set generate.crf=18 --set score.metrics.batch_size=4")
    p.add_argument("--model-config", default="", help="TOML/JSON file of model settings (--set overrides it)")
    p.add_argument("--preset", default="", help="official run settings: vace-teacher | vdot-student (diffusers, vdot); "
                                                "--model-config and --set override them")
    p.add_argument("--seed", type=int, default=None, help="seed of every case (default 2025, the official one)")
    p.add_argument("--height", type=int, default=0, help="working height (0 = the suite's, else 480)")
    p.add_argument("--width", type=int, default=0, help="working width (0 = the suite's, else 832)")
    p.add_argument("--frames", type=int, default=0, help="frames per video (0 = the suite's, else 81)")
    p.add_argument("--fps", type=float, default=16.0, help="frame rate of the written videos")
    p.add_argument("--overwrite", action="store_true", help="regenerate videos that already exist")
    p.add_argument("--workers", type=int, default=0, help="Ray actors (0 = run in this process)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0)
    p.add_argument("--ray-address", default="", help="'' = local Ray, 'auto' = the running cluster")
    p.add_argument("--no-progress", action="store_true")


def _scoring_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", default="", help="results file (default <outputs>/results.json)")
    p.add_argument("--weights-dir", default=None, help="metric weights folder (see `uvc bench weights fetch`)")
    p.add_argument("--backend", action="append", default=[], metavar="MODE|DIM=MODE",
                   help="reference (default: VBench's networks) | offline | auto (reference, else offline) for every "
                        "dimension, or DIM=MODE for one (repeatable)")
    p.add_argument("--dimensions", default="", help="comma-separated VBench dimensions (default the six)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--convention", choices=("vbench", "vace"), default="vbench",
                   help="NA convention: vbench (÷ Σ weights, VDOT's table, default) or vace (÷ n, VACE's table)")
    p.add_argument("--clip-dtype", choices=("auto", "float32", "float16"), default="auto",
                   help="CLIP encoders' dtype (auto = VBench's: float16 on CUDA, float32 on CPU)")
    p.add_argument("--no-output-check", action="store_true",
                   help="score videos whose frames/size/fps differ from their case (fidelity skipped for them)")
    p.add_argument("--no-fidelity", action="store_true", help="skip condition fidelity")
    p.add_argument("--score-cache", default="", help="per-case score cache folder (default <outputs>/.score_cache)")
    p.add_argument("--no-score-cache", action="store_true", help="score every video again (no cache read or written)")
    p.add_argument("--score-workers", type=int, default=0,
                   help="score on N Ray actors, one Scorer each; 0 = this process")
    p.add_argument("--score-gpus-per-worker", type=float, default=0.0, help="GPUs per scoring actor (1 = one each)")
    p.add_argument("--depth-weights", default="", help="Depth Anything V2 folder for depth re-annotation fidelity")
    p.add_argument("--pose-backend", choices=("mediapipe", "dwpose"), default="mediapipe",
                   help="pose annotator for pose re-annotation fidelity")
    p.add_argument("--dwpose-dir", default="", help="DWPose ONNX folder (with --pose-backend dwpose)")
    p.add_argument("--vbench-export", default="", help="also write VBench *_eval_results.json files here")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("build-suite", help="build a UVCBench-format suite from WebDataset shards")
    p.add_argument("--shards", nargs="+", required=True, help="shard folders, globs or files")
    p.add_argument("--out", required=True, help="suite folder to write")
    p.add_argument("--per-task", type=int, default=20)
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--tasks", default="", help="comma-separated tasks (default the 18 bench tasks)")
    p.add_argument("--split", default="", help="only samples of this split (default any)")
    p.set_defaults(func=cmd_build_suite)

    p = subparsers.add_parser("generate", help="generate <out>/<subtask>/<sample_id>.mp4 for a suite (resumable)")
    _common_selection(p)
    p.add_argument("--out", required=True, help="output folder")
    _generation_args(p)
    p.set_defaults(func=cmd_generate)

    p = subparsers.add_parser("score", help="score generated videos: VBench dimensions, NA, condition fidelity")
    _common_selection(p)
    p.add_argument("--outputs", required=True, help="folder of <subtask>/<sample_id>.mp4")
    p.add_argument("--model-name", default="", help="model name for outputs made elsewhere")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="score.FIELD=VALUE",
                   help="any field of the scoring config, over the flags (repeatable), e.g. "
                        "--set score.metrics.batch_size=4")
    _scoring_args(p)
    p.set_defaults(func=cmd_score)

    p = subparsers.add_parser("run", help="generate, then score")
    _common_selection(p)
    p.add_argument("--out", required=True, help="output folder (videos and results.json)")
    _generation_args(p)
    _scoring_args(p)
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser("normalize", help="VBench *_eval_results.json or {dim: value} → normalised values + NA")
    p.add_argument("file")
    p.add_argument("--convention", choices=("vbench", "vace"), default="vbench",
                   help="vbench: ÷ Σ weights (VBench, VDOT; default); vace: ÷ n (VACE's 8-dimension table)")
    p.set_defaults(func=cmd_normalize)

    p = subparsers.add_parser("weights", help="metric weights: list, fetch")
    wsub = p.add_subparsers(dest="weights_command", metavar="{list,fetch}", required=True)
    w = wsub.add_parser("fetch", help="download metric weights (SHA-256 checked) into a folder")
    w.add_argument("names", nargs="*", help="weights to fetch (default: all)")
    w.add_argument("--dest", required=True)
    w.add_argument("--base-url", default=None, help="a mirror laid out like the weights folder")
    w.add_argument("--allow-unverified", action="store_true")
    w.set_defaults(func=cmd_weights_fetch)
    w = wsub.add_parser("list", help="list the known weights and their sources")
    add_json_flag(w)
    w.set_defaults(func=cmd_weights_list)

    p = subparsers.add_parser("tasks", help="the 18 UVCBench tasks, their official routing and inputs")
    add_json_flag(p)
    p.set_defaults(func=cmd_tasks)
    p = subparsers.add_parser("models", help="the bench models and their settings")
    add_json_flag(p)
    p.set_defaults(func=cmd_models)


def _split(s: str) -> list[str]:
    return [x.strip() for x in s.split(",") if x.strip()]


SECTIONS = ("generate", "score")


def _sets(args: argparse.Namespace, section: str) -> list[str]:
    """The --set items of one section: "model" (unprefixed or model.KEY, prefix stripped), "generate", "score"."""
    out = []
    for item in args.settings:
        head = item.split("=", 1)[0].strip().split(".", 1)[0]
        if head in SECTIONS:
            if head == section:
                out.append(item)
        elif section == "model":
            out.append(item[len("model."):] if item.startswith("model.") else item)
    return out


def _check_sections(args: argparse.Namespace, allowed: tuple[str, ...], model: bool = True) -> None:
    from uvc_data.errors import ConfigError

    for item in args.settings:
        head = item.split("=", 1)[0].strip().split(".", 1)[0]
        if head in SECTIONS and head not in allowed:
            raise ConfigError(f"--set {item}", f"this command has no {head} step; use `uvc bench run` for both")
        if head not in SECTIONS and not model:
            raise ConfigError(f"--set {item}", "this command runs no model: write score.FIELD=VALUE")


def _model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """--preset, then --model-config, then --set, through the one resolver, checked against the model's typed Config."""
    from uvc_data.configurable import from_dict, resolve, to_dict
    from uvc_bench.models.registry import model_class

    cls = model_class(args.model)
    base = from_dict(cls.Config, dict(get_preset_for(args).settings)) if args.preset else cls.Config()
    return to_dict(resolve(base, args.model_config or None, _sets(args, "model"),
                           file_flag="--model-config", check=False))


def get_preset_for(args: argparse.Namespace):
    from uvc_bench.models.presets import get_preset

    return get_preset(args.preset, args.model)


def _generate_config(args: argparse.Namespace, out: str):
    from uvc_data.configurable import resolve
    from uvc_bench.generate import GenerateConfig

    seed = args.seed if args.seed is not None else (get_preset_for(args).seed if args.preset else 2025)
    flags = GenerateConfig(suite=args.suite, out=out, model=args.model, model_settings=_model_settings(args),
                           model_name=args.name, preset=args.preset or None,
                           seed=seed, height=args.height, width=args.width, num_frames=args.frames, fps=args.fps,
                           tasks=_split(args.tasks), limit=args.limit, overwrite=args.overwrite, workers=args.workers,
                           gpus_per_worker=args.gpus_per_worker, ray_address=args.ray_address,
                           progress=not args.no_progress and sys.stderr.isatty())
    return resolve(flags, overrides=_sets(args, "generate"), section="generate.", check=False)


def _score_config(args: argparse.Namespace, outputs: str, model_name: str = ""):
    from uvc_data.configurable import resolve
    from uvc_data.errors import ConfigError
    from uvc_bench.metrics.api import VBENCH_DIMENSIONS, MetricsConfig
    from uvc_bench.score import ScoreConfig

    dims = _split(args.dimensions) or list(VBENCH_DIMENSIONS)
    backend: dict[str, str] = {}
    for b in args.backend:
        if "=" in b:
            d, mode = b.split("=", 1)
            backend[d.strip()] = mode.strip()
        else:
            backend.update({d: b.strip() for d in dims})
    metrics = MetricsConfig(weights_dir=args.weights_dir, dimensions=dims, backend=backend, clip_dtype=args.clip_dtype,
                            batch_size=args.batch_size, device=args.device, depth_weights=args.depth_weights,
                            pose_backend=args.pose_backend, dwpose_dir=args.dwpose_dir)
    if args.batch_size < 1:
        raise ConfigError("--batch-size", "must be ≥ 1")
    flags = ScoreConfig(suite=args.suite, outputs=outputs, results=args.results, metrics=metrics,
                        na_convention=args.convention, fidelity=not args.no_fidelity, tasks=_split(args.tasks),
                        limit=args.limit, model_name=model_name, vbench_export=args.vbench_export,
                        cache=None if args.no_score_cache else args.score_cache, workers=args.score_workers,
                        gpus_per_worker=args.score_gpus_per_worker,
                        ray_address=getattr(args, "ray_address", ""),
                        check_outputs=not args.no_output_check, command=["uvc", "bench", *sys.argv[2:]]
                        if sys.argv[1:2] == ["bench"] else list(sys.argv))
    return resolve(flags, overrides=_sets(args, "score"), section="score.", check=False)


def cmd_build_suite(args: argparse.Namespace) -> int:
    from uvc_bench.build_suite import BuildSuiteConfig, build_suite

    build_suite(BuildSuiteConfig(shards=list(args.shards), out=args.out, per_task=args.per_task, seed=args.seed,
                                 tasks=_split(args.tasks), split=args.split), log=_log)
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from uvc_bench.generate import generate_suite

    _check_sections(args, ("generate",))
    summary = generate_suite(_generate_config(args, args.out), log=_log)
    return 1 if summary.failed else 0


def cmd_score(args: argparse.Namespace) -> int:
    from uvc_bench.score import score_outputs

    _check_sections(args, ("score",), model=False)
    results = score_outputs(_score_config(args, args.outputs, args.model_name), log=_log)
    _print_summary(results)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from uvc_bench.generate import generate_suite
    from uvc_bench.score import score_outputs

    summary = generate_suite(_generate_config(args, args.out), log=_log)
    results = score_outputs(_score_config(args, args.out), log=_log)
    _print_summary(results)
    return 1 if summary.failed else 0


def _print_summary(results) -> None:
    for name, t in results.tasks.items():
        na = "n/a" if t.na is None else f"{t.na:6.2f}"
        print(f"{name:22s} NA {na}  scored {t.num_scored}/{t.num_cases}")
    na = "n/a" if results.overall.na is None else f"{results.overall.na:6.2f}"
    o, m = results.overall, results.metrics
    print(f"{'overall':22s} NA {na}  ({m.na_convention} convention over {o.na_num_dimensions} of "
          f"{len(m.dimensions)} dimensions: {', '.join(f'{d}={b}' for d, b in o.na_backends.items()) or 'none'})")
    for d, why in m.fallbacks.items():
        print(f"FALLBACK {d}: scored by {m.backends.get(d)!r}, not VBench's network ({why.splitlines()[0][:200]})")
    for d, why in m.missing.items():
        print(f"MISSING  {d}: not scored, left out of every NA ({why.splitlines()[0][:200]})")


def cmd_normalize(args: argparse.Namespace) -> int:
    from uvc_bench.normalize import load_vbench_results, normalize_report

    print(json.dumps(normalize_report(load_vbench_results(args.file), args.convention), indent=1))
    return 0


def cmd_weights_fetch(args: argparse.Namespace) -> int:
    from uvc_bench.weights import MANIFEST, fetch_and_report

    return fetch_and_report(args.names or list(MANIFEST), args.dest, args.base_url, args.allow_unverified)


def _weights_line(r: dict[str, Any]) -> str:
    check = r["sha256"] or (f"sha256 {r['sha256_prefix']}…" if r["sha256_prefix"] else "no published checksum")
    return f"{r['name']:16s} {r['dest']:45s} {r['url']}  [{check}]"


def cmd_weights_list(args: argparse.Namespace) -> int:
    from uvc_bench.weights import MANIFEST

    rows = [{"name": name, "dest": e.dest, "url": e.url, "sha256": e.sha256 or None,
             "sha256_prefix": e.sha256_prefix or None} for name, files in MANIFEST.items() for e in files]
    return emit(rows, args, _weights_line)


def cmd_tasks(args: argparse.Namespace) -> int:
    from uvc_data.tasks import bench_tasks, route_official_subtask
    from uvc_bench.suite import ROUTE_INPUTS

    rows = [{"name": t.name, "compound": t.compound, "route": route_official_subtask(t.name),
             "inputs": list(ROUTE_INPUTS[route_official_subtask(t.name)]), "aliases": list(t.aliases)}
            for t in bench_tasks()]
    return emit(rows, args, lambda r: (
        f"{r['name']:20s} {'compound' if r['compound'] else 'single':8s} route {r['route']:15s} "
        f"inputs: {', '.join(r['inputs']) or 'text only':34s} aliases: {', '.join(r['aliases']) or '-'}"))


def cmd_models(args: argparse.Namespace) -> int:
    import dataclasses

    from uvc_bench.models.registry import model_class, model_names

    rows = []
    for name in model_names():
        try:
            cls = model_class(name)
        except ImportError as exc:
            rows.append({"name": name, "available": False, "why": str(exc), "doc": "", "settings": []})
            continue
        doc = (sys.modules[cls.__module__].__doc__ or "").strip().splitlines()[0]
        rows.append({"name": name, "available": True, "why": "", "doc": doc,
                     "settings": [f.name for f in dataclasses.fields(cls.Config)]})
    return emit(rows, args, lambda r: (f"{r['name']:10s} {r['doc']}\n{'':10s} settings: {', '.join(r['settings'])}"
                                       if r["available"] else f"{r['name']:10s} (unavailable: {r['why']})"))
