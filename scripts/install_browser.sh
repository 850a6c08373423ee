#!/usr/bin/env bash
# Idempotent install of a headless browser for the leaderboard's browser test (tests/leaderboard, marker `browser`):
# Debian's chromium + chromium-driver. Needs root (or sudo). Safe to run again: does nothing when both are present.
#   bash scripts/install_browser.sh
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1; }
if have chromium && have chromedriver; then
  echo "[install_browser] chromium and chromedriver already installed: $(chromium --version 2>/dev/null || true)"
  exit 0
fi
if ! have apt-get; then
  echo "[install_browser] apt-get not found: install chromium and chromedriver with your system's package manager" >&2
  exit 1
fi
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if have sudo; then sudo_cmd=(sudo); else
    echo "[install_browser] not root and no sudo: run this script as root" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "[install_browser] apt-get update"
"${sudo_cmd[@]}" apt-get update -q
echo "[install_browser] apt-get install chromium chromium-driver"
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends chromium chromium-driver
echo "[install_browser] done: $(chromium --version 2>/dev/null || echo chromium)"
