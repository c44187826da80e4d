#!/usr/bin/env bash
# Build the browser bundle: the vendored front-end libraries (npm → www/vendor/) and the wasm
# Lab (wasm-pack → pkg/, optimised by wasm-opt, copied to www/pkg/). Both are git-ignored.
#
#   bash scripts/build-web.sh
#
# Needs the tools from `bash scripts/setup-tools.sh --web`. The release profile is tuned for
# size here (fat LTO, one codegen unit), only for the wasm build: native builds stay fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/prunelab-target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# shellcheck source=scripts/wasm-env.sh
source scripts/wasm-env.sh

bash scripts/vendor-web.sh   # npm packages: uPlot for the page

# The native wasm-opt that setup-tools.sh installs with cargo (binaryen 116; not Debian 12's 108,
# which breaks the bundle, see Cargo.toml; not npm's, a JavaScript build, several times slower).
WASM_OPT="${CARGO_HOME:-$HOME/.cargo}/bin/wasm-opt"
[[ -x $WASM_OPT ]] || { echo "build-web: no $WASM_OPT: run bash scripts/setup-tools.sh --web" >&2; exit 1; }

t0=$SECONDS
wasm-pack build --target web --release --mode no-install --out-dir pkg --out-name prunelab
# The features are those rustc's wasm32 target emits, plus SIMD (.cargo/config.toml).
"$WASM_OPT" pkg/prunelab_bg.wasm -O3 -o pkg/prunelab_bg.wasm \
  --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue
mkdir -p www/pkg
cp pkg/prunelab.js pkg/prunelab_bg.wasm pkg/prunelab.d.ts www/pkg/
raw=$(stat -c %s www/pkg/prunelab_bg.wasm)
gz=$(gzip -9 -c www/pkg/prunelab_bg.wasm | wc -c)
printf 'build-web: www/pkg/prunelab_bg.wasm %d bytes (%d gzipped) in %ds\n' "$raw" "$gz" "$((SECONDS - t0))"
