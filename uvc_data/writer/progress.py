"""A progress bar over inputs (tqdm, on stderr), silent when quiet."""
from __future__ import annotations

import sys

from uvc_data.writer.staging import Collector


class Progress:
    def __init__(self, total: int, quiet: bool, initial_note: str = ""):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="input", file=sys.stderr, disable=quiet, dynamic_ncols=True,
                        desc="staging")
        if initial_note and not quiet:
            self.bar.write(initial_note, file=sys.stderr)

    def update(self, event: str | None, collector: Collector) -> None:
        if event is None:
            return
        self.bar.update(1)
        self.bar.set_postfix(done=collector.done, failed=collector.failed, clips=collector.samples, refresh=False)

    def close(self) -> None:
        self.bar.close()
