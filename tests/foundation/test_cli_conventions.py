"""`uvc` conventions: --version, exit 1 for runtime errors and 2 for usage errors, data on stdout and logs on
stderr, --json on the listing commands, a closed pipe ends quietly, library progress bars only with -v."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from uvc_cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TQDM_DISABLE", "HF_HUB_DISABLE_PROGRESS_BARS",
                                                            "TRANSFORMERS_VERBOSITY", "DIFFUSERS_VERBOSITY",
                                                            "UVC_VERBOSE")}
    env.update(PYTHONPATH=str(ROOT), RAY_AUTH_MODE="disabled", **extra)
    return env


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("uvc ") and out.split()[1][0].isdigit()


def test_usage_errors_exit_2(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["tasks", "--no-such-flag"])
    assert exc.value.code == 2
    assert main(["data", "config", "--set", "split.decode.widht=3"]) == 2
    err = capsys.readouterr().err
    assert "split.decode.width" in err and "did you mean" in err.lower()
    assert main([]) == 2


def test_runtime_errors_exit_1(tmp_path: Path, capsys) -> None:
    (tmp_path / "r.json").write_text('{"schema_version": "uvcbench-results/1"}')
    assert main(["leaderboard", "build", str(tmp_path / "r.json"), "--out", str(tmp_path / "site")]) == 1
    captured = capsys.readouterr()
    assert "error:" in captured.err and captured.out == ""


@pytest.mark.parametrize("argv,n,key", [(["tasks"], 20, "family"), (["data", "recipes"], 3, "doc"),
                                        (["bench", "tasks"], 18, "route"), (["bench", "weights", "list"], 10, "url")])
def test_listing_commands_json(capsys, argv: list[str], n: int, key: str) -> None:
    assert main([*argv, "--json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert isinstance(rows, list) and len(rows) >= n and all(key in r for r in rows)
    assert captured.err == ""
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(rows) and lines[0].startswith(rows[0]["name"])


def test_closed_pipe_ends_without_traceback() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "uvc_cli.main", "bench", "weights", "list"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    proc.stdout.close()  # the reader goes away before the command writes (like `| head` after its lines)
    err = proc.stderr.read().decode()
    rc = proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert rc == 141


_LOAD = """
import sys
from uvc_cli.quiet import configure_output
configure_output(int(sys.argv[2]))
import transformers
m = transformers.GPT2LMHeadModel.from_pretrained(sys.argv[1])
print("loaded", sum(p.numel() for p in m.parameters()))
"""


@pytest.fixture(scope="module")
def tiny_gpt2(tmp_path_factory) -> Path:
    import transformers

    path = tmp_path_factory.mktemp("gpt2")
    cfg = transformers.GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=16, n_positions=8)
    transformers.GPT2LMHeadModel(cfg).save_pretrained(path)
    return path


@pytest.mark.slow  # two transformers imports in subprocesses: 30-40 s each on a loaded 2-core machine
@pytest.mark.parametrize("verbose", [0, 1])
def test_library_progress_bars_only_with_verbose(tiny_gpt2: Path, verbose: int) -> None:
    proc = subprocess.run([sys.executable, "-c", _LOAD, str(tiny_gpt2), str(verbose)], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("loaded ")
    assert ("Loading weights" in proc.stderr) == bool(verbose), proc.stderr


@pytest.mark.parametrize("verbose,disabled", [(0, "True"), (1, "False")])
def test_hub_progress_bars_follow_verbose(verbose: int, disabled: str) -> None:
    code = (f"from uvc_cli.quiet import configure_output; configure_output({verbose})\n"
            "from huggingface_hub.utils import are_progress_bars_disabled; print(are_progress_bars_disabled())")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split() == [disabled], proc.stderr


def test_verbose_reaches_inner_commands() -> None:
    code = ("from uvc_cli.quiet import configure_output; configure_output(1); configure_output(0)\n"
            "import os; print(os.environ.get('UVC_VERBOSE'), os.environ.get('TQDM_DISABLE'))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.split() == ["1", "None"], proc.stderr


def test_own_progress_bars_survive_quiet_mode() -> None:
    code = ("from uvc_cli.quiet import configure_output; configure_output(0)\n"
            "from tqdm import tqdm\nprint(tqdm(total=1, disable=False).disable, tqdm(total=1).disable)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.split() == ["False", "True"]
