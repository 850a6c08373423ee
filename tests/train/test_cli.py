"""`uvc train …` end to end on real WebDataset shards: pretrain a tiny teacher, distil it, generate, convert."""
from __future__ import annotations

import json

import numpy as np
import torch
import pytest

from uvc_cli.main import main
from uvc_data.shards import iter_samples, sample_to_wds, write_tar

from .conftest import make_sample


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    path = tmp_path_factory.mktemp("shards") / "train-000000.tar"
    write_tar(path, [sample_to_wds(make_sample(i)) for i in range(3)])
    return str(path)


def test_print_config_and_bad_recipe(capsys):
    assert main(["train", "train", "--recipe", "phase2", "--set", "run.max_steps=7", "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["run"]["max_steps"] == 7 and cfg["loss"]["otd_weight"] == 0.8 and cfg["disc"]["blocks"] == [23, 31, 39]
    assert main(["train", "train", "--recipe", "phase3"]) == 2
    assert "did you mean" in capsys.readouterr().err.lower()


def test_config_file_merges_on_recipe(tmp_path, capsys):
    f = tmp_path / "c.toml"
    f.write_text("[loss]\ndmd_weight = 0.5\n[run]\nmax_steps = 3\n")
    assert main(["train", "train", "--recipe", "phase2", "--config", str(f), "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert cfg["loss"]["dmd_weight"] == 0.5 and cfg["loss"]["otd_weight"] == 0.8 and cfg["run"]["max_steps"] == 3


def test_pretrain_train_generate_convert(tmp_path, shard, capsys):
    assert len(list(iter_samples(shard))) == 3
    teacher = tmp_path / "pre"
    rc = main(["train", "pretrain", "--set", f"model.path={tmp_path / 'init'}", "--set", f"data.shards=[\"{shard}\"]",
               "--set", "run.max_steps=2", "--set", f"run.out_dir={teacher}"])
    assert rc == 0 and (teacher / "model" / "transformer" / "config.json").is_file()
    run = tmp_path / "vdot"
    rc = main(["train", "train", "--set", f"model.path={teacher / 'model'}", "--set", "model.init_tiny=false",
               "--set", f"data.shards=[\"{shard}\"]", "--set", "run.max_steps=2", "--set", f"run.out_dir={run}"])
    assert rc == 0 and (run / "checkpoints" / "step_0000002" / ".metadata").is_file()
    assert len((run / "log.jsonl").read_text().splitlines()) == 2
    out = tmp_path / "videos"
    rc = main(["train", "generate", "--model-path", str(teacher / "model"), "--weights", str(run), "--codec", "pixel",
               "--text-max-length", "16", "--prompt", "a red car", "--num-frames", "3", "--height", "16",
               "--width", "16", "--out", str(out)])
    assert rc == 0
    v = np.load(out / "0000.npy")
    assert v.shape == (3, 16, 16, 3) and (out / "0000.mp4").stat().st_size > 0
    rc = main(["train", "generate", "--model-path", str(teacher / "model"), "--weights", str(run), "--codec", "pixel",
               "--text-max-length", "16", "--shards", shard, "--task", "depth", "--limit", "1", "--out", str(out / "d")])
    assert rc == 0 and np.load(out / "d" / "0000.npy").shape == (3, 16, 16, 3)
    gen = run / "checkpoints" / "step_0000002"  # a sharded (DCP) checkpoint
    assert main(["train", "convert", str(gen), str(tmp_path / "orig.pt"), "--to", "original"]) == 0
    assert main(["train", "convert", str(tmp_path / "orig.pt"), str(tmp_path / "back.safetensors")]) == 0
    from safetensors.torch import load_file

    from vdot_train.trainer.checkpoint import read_transformer_state

    a, b = read_transformer_state(gen), load_file(tmp_path / "back.safetensors")
    # the .pt → a sharded diffusers transformer dir, streamed
    assert main(["train", "convert", str(tmp_path / "orig.pt"), str(tmp_path / "back_dir"),
                 "--config-from", str(teacher / "model")]) == 0
    from vdot_train.models.denoiser import Denoiser

    den = Denoiser.from_dir(tmp_path / "back_dir", "vace")
    assert all(torch.equal(den.transformer.state_dict()[k], a[k]) for k in a)
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
