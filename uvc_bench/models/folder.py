"""`folder`: videos generated elsewhere, in the official layout `<root>/<subtask>/<sample_id>.mp4`.

Files are passed through untouched (no cut, no re-encode): the harness copies each file byte for byte after checking
it against its case (frames, size and the file's own fps, uvc_bench.models.base.check_file); a missing file or one
that does not match is that case's error, naming what differs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from uvc_data.errors import ConfigError
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
            out.append(GenResult(req.case_id, path=path))  # generated elsewhere: no timing
        return out
