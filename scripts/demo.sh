#!/usr/bin/env bash
# Install (idempotent) and run the main job on its embedded default: the README's first command.
#   bash scripts/demo.sh [uvc demo options]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/install.sh"
cd "$root"
export RAY_AUTH_MODE=disabled
exec "$root/.venv/bin/uvc" demo "$@"
