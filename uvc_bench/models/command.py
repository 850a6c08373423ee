"""`command`: run an external program once per case, from a command template.

Placeholders: {prompt} {src_video} {src_mask} {ref_images} {out} {seed} {height} {width} {num_frames} {fps}
{subtask} {sample_id} {task}. The template is split into arguments first (shell rules, `shlex.split`) and each
placeholder is substituted inside its argument, so values are never re-parsed by a shell: a prompt with quotes, `;`
or `$(...)` reaches the program as one literal argument. An argument that is exactly `{ref_images}` expands to one
argument per reference image (none when the case has none); inside a longer argument they are joined with commas.
Inputs the case does not have become "". Inputs a case has but the suite did not store (requests built in code)
are written from the VCU to a temporary folder first. The program must write an MP4 to {out}; a non-zero exit,
a timeout, a missing output or one whose frames / size / fps differ from the case is that case's error (with
the tail of its stderr).
"""
from __future__ import annotations

import shlex
import string
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from uvc_data.errors import BadInputError, ConfigError
from uvc_data.vcu import to_uint8
from uvc_data.video.codec import decode_video, encode_png, encode_video
from uvc_bench.models.base import CaseFiles, GenRequest, GenResult, VideoModel

PLACEHOLDERS = ("prompt", "src_video", "src_mask", "ref_images", "out", "seed", "height", "width", "num_frames",
                "fps", "subtask", "sample_id", "task")


@dataclass
class CommandConfig:
    template: str = ""
    timeout_s: float = 3600.0
    cwd: str = ""

    def validate(self) -> None:
        if not self.template.strip():
            raise ConfigError("template", "give the command to run per case, e.g. "
                              "'python gen.py --prompt {prompt} --video {src_video} --out {out}'")
        try:
            args = shlex.split(self.template)
        except ValueError as exc:
            raise ConfigError("template", f"cannot split the command ({exc}); check its quotes") from None
        used = set()
        for a in args:
            try:
                used |= {f for _, f, _, _ in string.Formatter().parse(a) if f is not None}
            except ValueError as exc:
                raise ConfigError("template", f"bad placeholder in {a!r} ({exc}); write a literal brace as {{{{ }}}}")
        unknown = sorted(used - set(PLACEHOLDERS))
        if unknown:
            raise ConfigError("template", f"unknown placeholder(s) {unknown}; known: {list(PLACEHOLDERS)}")
        if "out" not in used:
            raise ConfigError("template", "the command must write its video to {out}; add the {out} placeholder")
        if self.timeout_s <= 0:
            raise ConfigError("timeout_s", f"must be > 0, got {self.timeout_s}")


def materialise(req: GenRequest, folder: Path) -> CaseFiles:
    """The request's input files: the suite's where it has them, else written from the VCU into `folder`."""
    f = req.files
    vcu = req.vcu
    has_video = bool(np.any(vcu.frames != 0.0))
    src_video, src_mask, refs = f.src_video, f.src_mask, f.ref_images
    if src_video is None and has_video:
        src_video = folder / "src_video.mp4"
        src_video.write_bytes(encode_video(to_uint8(vcu.frames), req.fps))
    if src_mask is None and has_video and bool(np.any(vcu.masks == 0.0)):
        src_mask = folder / "src_mask.mp4"
        src_mask.write_bytes(encode_video(np.round(vcu.masks * 255).astype(np.uint8), req.fps, crf=0))
    if not refs and vcu.refs:
        refs = tuple(folder / f"ref{i}.png" for i in range(len(vcu.refs)))
        for p, r in zip(refs, vcu.refs):
            p.write_bytes(encode_png(to_uint8(r)))
    return CaseFiles(src_video, src_mask, refs)


def build_argv(template: str, req: GenRequest, files: CaseFiles, out: Path) -> list[str]:
    """The argument list for one case (no shell involved)."""
    values = {
        "prompt": req.vcu.prompt, "src_video": str(files.src_video or ""), "src_mask": str(files.src_mask or ""),
        "ref_images": ",".join(str(p) for p in files.ref_images), "out": str(out), "seed": str(req.seed),
        "height": str(req.size[0]), "width": str(req.size[1]), "num_frames": str(req.num_frames),
        "fps": f"{req.fps:g}", "subtask": req.subtask, "sample_id": req.sample_id, "task": req.task,
    }
    argv: list[str] = []
    for arg in shlex.split(template):
        if arg == "{ref_images}":
            argv.extend(str(p) for p in files.ref_images)
        else:
            argv.append(arg.format(**values))
    return argv


class CommandModel(VideoModel):
    name = "command"
    Config = CommandConfig

    def _one(self, req: GenRequest) -> GenResult:
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="uvc_cmd_") as tmp:
            folder = Path(tmp)
            out = folder / "out.mp4"
            argv = build_argv(self.cfg.template, req, materialise(req, folder), out)
            try:
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=self.cfg.timeout_s,
                                      cwd=self.cfg.cwd or None)
            except subprocess.TimeoutExpired:
                return GenResult(req.case_id, error=f"command timed out after {self.cfg.timeout_s:g} s: {argv[0]}")
            except OSError as exc:
                return GenResult(req.case_id, error=f"cannot run {argv[0]!r}: {exc}")
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout or "").strip()[-800:]
                return GenResult(req.case_id, error=f"command exited with {proc.returncode}: {tail}")
            if not out.is_file():
                return GenResult(req.case_id, error=f"command exited 0 but wrote nothing to {{out}} ({out})")
            try:
                video, fps = decode_video(out)  # never cut: the harness checks it against the case
            except BadInputError as exc:
                return GenResult(req.case_id, error=f"command output is not a video: {exc}")
        return GenResult(req.case_id, video, seconds=time.perf_counter() - t0, fps=fps or None)

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        return [self._one(r) for r in requests]
