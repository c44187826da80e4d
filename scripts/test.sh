#!/usr/bin/env bash
# Run every test: the one command for README and CI.
#
#   bash scripts/test.sh
#
# 1. scripts/setup-tools.sh  (toolchain pieces; skipped when present)
# 2. scripts/setup-data.sh   (real Fashion-MNIST into www/data/, verified)
# 3. cargo test --release    (native)
# 4. cargo check --target wasm32-unknown-unknown --lib
# Builds go to $CARGO_TARGET_DIR (default ~/.cache/prunelab-target), outside the clone, so fresh
# clones on one machine reuse them. Stops at the first failing step.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prunelab-target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
mkdir -p -- "$CARGO_TARGET_DIR"

START=$SECONDS
step() {
  local t0=$SECONDS
  printf '\n==> prunelab tests: %s\n' "$*"
  if ! "$@"; then
    printf '\nprunelab tests: FAILED at step: %s (after %ds)\n' "$*" "$((SECONDS - START))" >&2
    exit 1
  fi
  printf '<== ok (%ds): %s\n' "$((SECONDS - t0))" "$*"
}

echo "prunelab tests: repo $ROOT, CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
step bash scripts/setup-tools.sh
step bash scripts/setup-data.sh
step cargo test --release
step cargo check --target wasm32-unknown-unknown --lib

printf '\nprunelab tests: all steps passed (%ds)\n' "$((SECONDS - START))"
