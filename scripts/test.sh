#!/usr/bin/env bash
# Install (idempotent) and run the test suite: the README's test command, and what CI runs.
#   bash scripts/test.sh [extra pytest args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install.sh"
cd "$root"
export RAY_AUTH_MODE=disabled PYTHONDONTWRITEBYTECODE=1
# tests build tiny models from configs: nothing may come from a model hub
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# slow tests (marked `slow`) are kept out; run them with: .venv/bin/pytest -m slow
exec "$root/.venv/bin/python" -m pytest -q -m "not slow" --durations=15 "$@"
