#!/usr/bin/env bash
# Set up and serve the lab: tools, data, the wasm bundle, then http://127.0.0.1:${PORT:-8080}/.
#
#   bash scripts/serve.sh            # PORT=9000 bash scripts/serve.sh for another port
#
# The first run builds everything (tens of minutes on 2 cores); later runs start in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prunelab-target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

bash scripts/setup-tools.sh --web
bash scripts/setup-data.sh
cargo build --release --bin prunelab
bash scripts/build-web.sh
echo "Open http://127.0.0.1:${PORT:-8080}/ in a browser with WebGPU (or without: the CPU backend takes over)."
exec "$CARGO_TARGET_DIR/release/prunelab" serve --port "${PORT:-8080}" --root www
