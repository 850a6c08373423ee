"""`folder`: videos generated elsewhere, in the official layout `<root>/<subtask>/<sample_id>.mp4`.

A missing or undecodable file is that case's error. Videos with more frames than asked are cut; other sizes are kept
(scored as they are, as VBench does).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from uvc_data.errors import BadInputError, ConfigError
from uvc_data.video.codec import decode_video
from uvc_bench.models.base import GenRequest, GenResult, VideoModel


@dataclass
class FolderConfig:
    root: str = ""
    extension: str = ".mp4"

    def validate(self) -> None:
        if not self.root:
            raise ConfigError("root", "give the folder holding <subtask>/<sample_id>.mp4 (--set root=DIR)")
        if not Path(self.root).expanduser().is_dir():
            raise ConfigError("root", f"{self.root} is not a folder")


class FolderModel(VideoModel):
    name = "folder"
    Config = FolderConfig

    def path_of(self, req: GenRequest) -> Path:
        return Path(self.cfg.root).expanduser() / req.subtask / f"{req.sample_id}{self.cfg.extension}"

    def generate(self, requests: list[GenRequest]) -> list[GenResult]:
        out = []
        for req in requests:
            path = self.path_of(req)
            if not path.is_file():
                out.append(GenResult(req.case_id, error=f"no video at {path}"))
                continue
            try:
                video = decode_video(path)[0][: req.num_frames]
            except BadInputError as exc:
                out.append(GenResult(req.case_id, error=f"{path}: {exc}"))
                continue
            out.append(GenResult(req.case_id, video))  # generated elsewhere: no timing
        return out
