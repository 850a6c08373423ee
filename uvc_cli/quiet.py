"""What the toolkit's libraries print: progress bars and "Loading weights" lines of transformers, diffusers and the
Hugging Face hub are hidden unless `uvc -v`; the toolkit's own logs go to stderr.

The switches are environment variables, so they reach every process the command starts (Ray workers, the demo's
`uvc` sub-commands) and are read before the libraries are imported. The toolkit's own progress bars pass `disable=`
explicitly, which tqdm's TQDM_DISABLE default does not override.
"""
from __future__ import annotations

import logging
import os
import sys

QUIET_ENV = {
    "TQDM_DISABLE": "1",  # a default only: library bars without an explicit disable= (transformers' "Loading weights")
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # the hub's and transformers' own switch
    "TRANSFORMERS_VERBOSITY": "error",
    "DIFFUSERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}
OWN_LOGGERS = ("uvc_data", "uvc_bench", "vdot_train", "pipelines", "leaderboard", "uvc_cli")


VERBOSE_ENV = "UVC_VERBOSE"  # passes `-v` on to the commands a command runs (the demo's stages, Ray workers)


def configure_output(verbose: int) -> None:
    """verbose 0: libraries quiet (their warnings and errors still shown); ≥ 1: libraries as they are, INFO logs.
    The toolkit's own loggers log INFO to stderr either way. A value the user already set in the environment wins;
    a `-v` given to an outer `uvc` (UVC_VERBOSE) holds for the inner ones."""
    verbose = max(verbose, int(os.environ.get(VERBOSE_ENV, "0") or 0))
    if verbose:
        os.environ[VERBOSE_ENV] = str(verbose)
    else:
        for key, value in QUIET_ENV.items():
            os.environ.setdefault(key, value)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
        root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
