#!/usr/bin/env bash
# One-shot, idempotent set-up of the toolkit into .venv (CPU machine, no CUDA packages).
#   bash scripts/install.sh            (UVC_VENV=path for another venv, PYTHON=python3.x for another interpreter)
# It installs through the package metadata (pyproject.toml: dependencies and the [dev] extra), only ordering it
# (docs/install.md):
#   1. torch pinned to the CPU wheel first, so nothing later pulls a multi-GB CUDA build;
#   2. the toolkit with its dependencies (editable, [dev] extra) with torch held by a constraint;
#   3. last, one OpenCV wheel that satisfies both scenedetect (cv2) and mediapipe (cv2 contrib).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${UVC_VENV:-$root/.venv}"
py="${PYTHON:-python3}"
stamp="$venv/.uvc-install-stamp"
want="$(cat "$root/scripts/install.sh" "$root/scripts/install_browser.sh" "$root/pyproject.toml" | sha256sum | cut -c1-16)"
# headless Chromium + driver for the leaderboard's browser test (Debian packages; idempotent, fast when present)
bash "$root/scripts/install_browser.sh"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "[install] $venv is up to date"; exit 0
fi
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q)
"${pip[@]}" --upgrade pip
echo "[install] torch (CPU)"
"${pip[@]}" "torch==2.13.0"
echo "torch==2.13.0" > "$venv/constraints.txt"
echo "[install] the toolkit and its dependencies (pyproject.toml, editable, [dev] extra)"
"${pip[@]}" -c "$venv/constraints.txt" -e "$root[dev]"
echo "[install] OpenCV (one cv2 for scenedetect and mediapipe)"
"${pip[@]}" --force-reinstall --no-deps "opencv-contrib-python-headless==5.0.0.93"
echo "[install] reference metric code for parity tests only (vbench, pyiqa; no deps, never imported by the toolkit)"
rm -rf "$venv/reference"
"${pip[@]}" --no-deps --target "$venv/reference" "vbench==0.1.5" "pyiqa==0.1.16"
"$venv/bin/python" -m pip check --disable-pip-version-check >&2 || echo "[install] note: pip check reports the conflicts above" >&2
echo "$want" > "$stamp"
echo "[install] done: $venv"
